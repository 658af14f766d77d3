"""Settings, layered: defaults, then RETARGET_* environment variables, then CLI flags."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class VerifySettings(BaseSettings):
    """Limits of one verification; every field can be set as RETARGET_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="RETARGET_")

    budget: int = Field(1_000_000, description="instructions one emulated call may execute")
    timeout_ms: int = Field(2000, description="wall-clock limit of one emulated call")
    max_runs: int = Field(400, description="reference runs the coverage-guided search may spend")
    max_tests: int = Field(400, description="public tests kept from the search")
    hidden_tests: int = Field(48, description="tests on the hidden seed in the final check")
