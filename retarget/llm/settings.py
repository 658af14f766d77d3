"""Settings of the model client: RETARGET_* variables (and the usual OPENAI_* ones)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Price(BaseModel):
    """What a model costs, in dollars per million tokens."""

    input_per_mtok: float = Field(0.0, description="prompt tokens")
    output_per_mtok: float = Field(0.0, description="completion tokens")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok
        ) / 1e6


class ModelSettings(BaseSettings):
    """Where the model is and how to talk to it; each field can be set as RETARGET_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="RETARGET_", populate_by_name=True)

    model: str = Field("", description="model name; empty means no model is configured")
    base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("RETARGET_BASE_URL", "OPENAI_BASE_URL", "base_url"),
        description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1",
    )
    api_key: str = Field(
        "unused",
        validation_alias=AliasChoices("RETARGET_API_KEY", "OPENAI_API_KEY", "api_key"),
        description="key sent as a bearer token (local servers ignore it)",
    )
    timeout_s: float = Field(120.0, description="limit of one HTTP request")
    max_attempts: int = Field(6, description="attempts per call before giving up")
    backoff_s: float = Field(1.0, description="first wait after a retryable failure")
    max_backoff_s: float = Field(60.0, description="longest wait between attempts")
    concurrency: int = Field(4, description="requests in flight at once, over all threads")
    temperature: float = Field(0.2, description="sampling temperature of every request")
    max_tokens: int = Field(4096, description="completion tokens one response may use")
    cache_path: Path | None = Field(
        None, description="SQLite response cache; none means responses are not cached"
    )
    prices: dict[str, Price] = Field(
        default_factory=dict, description="model name -> price, for cost accounting"
    )

    @property
    def configured(self) -> bool:
        return bool(self.model)
