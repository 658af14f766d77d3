"""Every agent step as one JSON line: the run's record, and training data later."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any


class Trace:
    """Appends records to a JSONL file (thread-safe); None path: records are dropped."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, problem: str, step: str, **data: Any) -> None:
        if self.path is None:
            return
        record = {"time": round(time.time(), 3), "problem": problem, "step": step, **data}
        line = json.dumps(record, default=str, ensure_ascii=False)
        with self._lock, self.path.open("a") as out:
            out.write(line + "\n")
