"""What goes to a model and what comes back."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Completion(BaseModel):
    """One model answer with what it cost."""

    text: str
    model: str
    usage: Usage = Field(default_factory=Usage)
    cost: float = 0.0
    cached: bool = False
    """Served from the response cache: no request was made, nothing was paid."""
    attempts: int = 1
    seconds: float = 0.0
