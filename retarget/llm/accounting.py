"""Token and cost accounting per call, per tag (a function, a kernel) and per run."""

from __future__ import annotations

import threading

from pydantic import BaseModel

from retarget.llm.types import Completion


class Totals(BaseModel):
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    def add(self, completion: Completion) -> None:
        self.calls += 1
        self.cached_calls += completion.cached
        self.prompt_tokens += completion.usage.prompt_tokens
        self.completion_tokens += completion.usage.completion_tokens
        self.cost += completion.cost


class CallRecord(BaseModel):
    tag: str
    completion: Completion


class Ledger:
    """Every completion a run received, by tag; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[CallRecord] = []

    def record(self, tag: str, completion: Completion) -> None:
        with self._lock:
            self.records.append(CallRecord(tag=tag, completion=completion))

    def totals(self, tag: str | None = None) -> Totals:
        """Sums over the run, or over one tag's calls."""
        out = Totals()
        with self._lock:
            for record in self.records:
                if tag is None or record.tag == tag:
                    out.add(record.completion)
        return out
