"""The LangGraph coder/tester/judge graph and the problems it solves (transpile, kernel)."""
