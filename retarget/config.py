"""Settings, layered: defaults, then RETARGET_* environment variables, then CLI flags."""

from __future__ import annotations

from typing import Literal

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


class KernelSettings(BaseSettings):
    """Limits and choices of one kernel evaluation; each can be set as RETARGET_KERNEL_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="RETARGET_KERNEL_")

    seeds: int = Field(5, description="model seeds, each run with two input seeds")
    seed: int | None = Field(None, description="first seed (random when unset)")
    compile_baseline: bool = Field(True, description="also time torch.compile of the reference")
    timing: bool = Field(True, description="time the candidate against the reference")
    repeats: int = Field(100, description="timed calls of each side")
    time_limit_s: float = Field(300, description="wall clock of one sandboxed run")
    memory_mb: int = Field(8192, description="address space of one sandboxed run")
    cache: str | None = Field(None, description="where built extensions are kept")
    sandbox: Literal["process", "docker"] = Field(
        "process", description="where untrusted steps run: bubblewrap, or a Docker container"
    )
    target_speedup: float = Field(
        1.5, description="kernel optimize stops improving a correct kernel at this speedup"
    )
