"""The OpenAI-compatible model client, its response cache and cost accounting, and the replay
server tests use. Only ``retarget.agents`` imports it."""
