"""``retarget kernel optimize``: one task through the agent graph, with its output directory.

OUT/
  best.py            the best correct candidate (absent when there is none)
  report.json        the outcome, every candidate's verdict and figures, the judge's last word
  report.md          the same for people
  candidates/        every candidate, named by round and origin
  .retarget/         checkpoints (a rerun resumes), the JSONL trace, the model response cache
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

from retarget.agents.budget import Budget
from retarget.agents.graph import Outcome, solve
from retarget.agents.kernel import KernelProblem
from retarget.agents.trace import Trace
from retarget.kernelgen.evaluate import EvalOptions
from retarget.kernelgen.static import BackendName
from retarget.kernelgen.task import KernelTask
from retarget.llm.client import Model


class KernelRun(BaseModel):
    """What one optimize run produced."""

    task: str
    backend: str
    outcome: Outcome
    best_path: str | None = None
    candidates: list[dict[str, Any]] = []

    @property
    def exit_code(self) -> int:
        """0: a correct candidate; 3: only unverified ones (CUDA with no GPU); 1: none."""
        if self.outcome.status == "verified":
            return 0
        return 3 if self.outcome.status == "unverifiable" else 1


class EchoTrace(Trace):
    """The trace, with each step also told to ``echo`` in one line (progress)."""

    def __init__(self, path: Path, echo: Callable[[str], None]) -> None:
        super().__init__(path)
        self.echo = echo

    def write(self, problem: str, step: str, **data: Any) -> None:
        super().write(problem, step, **data)
        if step in ("seed", "coder"):
            where = (
                "seed"
                if step == "seed"
                else f"round {data.get('round')} candidate {data.get('variant')}"
            )
            head = str(data.get("detail") or data.get("error") or "").splitlines()[:1]
            self.echo(f"{where}: {data.get('verdict', 'error')} {' '.join(head)[:160]}")
        elif step == "judge":
            self.echo(f"judge: {data.get('action')} ({data.get('reason')})")
        elif step == "tester":
            self.echo(f"tester: {data.get('added', 0)} task variants")


def thread_of(task: KernelTask, backend: str) -> str:
    digest = hashlib.sha256(f"{backend}\n{task.source}".encode()).hexdigest()[:16]
    return f"{task.name}:{backend}:{digest}"


def optimize_task(
    task: KernelTask,
    backend: BackendName,
    out: Path,
    model: Model | None,
    budget: Budget,
    options: EvalOptions,
    echo: Callable[[str], None] = lambda line: None,
    target_speedup: float = 1.5,
) -> KernelRun:
    state = out / ".retarget"
    state.mkdir(parents=True, exist_ok=True)
    problem = KernelProblem(task, backend, options, target_speedup)
    connection = sqlite3.connect(str(state / "checkpoints.sqlite"), check_same_thread=False)
    saver, thread = SqliteSaver(connection), thread_of(task, backend)
    try:
        outcome = solve(problem, model, budget, checkpointer=saver,
                        trace=EchoTrace(state / "trace.jsonl", echo), thread=thread)  # fmt: skip
        history = _history(saver, thread)
    finally:
        connection.close()
    if outcome.best is None and problem.seed_note:  # why nothing was tried
        outcome = outcome.model_copy(update={"reason": f"{outcome.reason}; {problem.seed_note}"})
    run = KernelRun(task=task.name, backend=backend, outcome=outcome, candidates=history)
    return _write(run, task, out)


def _history(saver: SqliteSaver, thread: str) -> list[dict[str, Any]]:
    checkpoint = saver.get_tuple({"configurable": {"thread_id": thread}})
    if checkpoint is None:
        return []
    values = checkpoint.checkpoint.get("channel_values", {})
    return list(values.get("candidates", []))


def _write(run: KernelRun, task: KernelTask, out: Path) -> KernelRun:
    folder = out / "candidates"
    folder.mkdir(parents=True, exist_ok=True)
    for k, candidate in enumerate(run.candidates):
        if candidate.get("code"):
            name = f"{k:02d}-round{candidate['round']}-{candidate['origin']}.py"
            (folder / name).write_text(candidate["code"])
    best = run.outcome.best
    if best is not None and run.outcome.status in ("verified", "unverifiable") and best.code:
        path = out / "best.py"
        path.write_text(best.code)
        run = run.model_copy(update={"best_path": str(path)})
    summary = run.model_dump(mode="json", exclude={"candidates"})
    summary["candidates"] = [{k: c.get(k) for k in ("origin", "round", "tokens", "cost")}
                             | {"evaluation": c.get("evaluation")}
                             for c in run.candidates]  # fmt: skip
    (out / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "report.md").write_text(_markdown(run, task))
    return run


def _markdown(run: KernelRun, task: KernelTask) -> str:
    o = run.outcome
    lines = [f"# {task.name} ({run.backend})", "",
             f"**{o.status}**: {o.reason}", "",
             f"rounds {o.rounds}, candidates {o.candidates}, model calls {o.model_calls}, "
             f"tokens {o.tokens}, cost ${o.cost:.4f}", "",
             "| # | origin | round | verdict | runtime ms | vs eager | vs torch.compile |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for k, c in enumerate(run.candidates):
        ev = c.get("evaluation", {})
        f = ev.get("figures", {})

        def show(value: Any) -> str:
            return f"{value:.3f}" if isinstance(value, float) else "-"

        lines.append(f"| {k} | {c.get('origin')} | {c.get('round')} | {ev.get('verdict')} | "
                     f"{show(f.get('runtime_ms'))} | {show(f.get('speedup_vs_eager'))} | "
                     f"{show(f.get('speedup_vs_compile'))} |")  # fmt: skip
    if o.best is not None:
        lines += ["", "## Best candidate's evaluation", "", "```", o.best.evaluation.detail, "```"]
    return "\n".join(lines) + "\n"
