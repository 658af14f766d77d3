"""Limits on one problem's agent run."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Budget(BaseSettings):
    """When the judge stops trying; every limit holds per problem and can be set as
    RETARGET_BUDGET_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="RETARGET_BUDGET_")

    rounds: int = Field(4, description="coder rounds after the seed")
    candidates: int = Field(2, description="parallel candidates per round")
    optimize_rounds: int = Field(1, description="rounds spent improving a verified candidate")
    tokens: int = Field(200_000, description="prompt plus completion tokens")
    cost: float = Field(2.0, description="dollars")
    seconds: float = Field(900.0, description="wall time of the run")

    def exhausted(self, rounds: int, tokens: int, cost: float, seconds: float) -> str | None:
        """Which limit a run at these figures has reached, or None."""
        if rounds >= self.rounds:
            return f"round budget spent ({rounds} of {self.rounds})"
        if tokens >= self.tokens:
            return f"token budget spent ({tokens} of {self.tokens})"
        if cost >= self.cost:
            return f"cost budget spent (${cost:.4f} of ${self.cost:.2f})"
        if seconds >= self.seconds:
            return f"time budget spent ({seconds:.0f} s of {self.seconds:.0f} s)"
        return None
