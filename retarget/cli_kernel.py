"""``retarget kernel``: evaluate a candidate kernel, or optimize a task with the agents."""

from __future__ import annotations

from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Annotated, Literal

import typer

from retarget.config import KernelSettings
from retarget.errors import InputError, SourceError
from retarget.kernelgen.evaluate import EvalOptions
from retarget.kernelgen.harness import Timing
from retarget.sandbox.process import Limits

kernel_app = typer.Typer(help="PyTorch operators to verified CUDA, Triton or C++ kernels.",
                         no_args_is_help=True)  # fmt: skip

Backend = Literal["cpp", "triton", "cuda"]


def eval_options(settings: KernelSettings | None = None) -> EvalOptions:
    s = settings or KernelSettings()
    return EvalOptions(
        seeds=s.seeds,
        seed=s.seed,
        time_it=s.timing,
        compile_baseline=s.compile_baseline,
        timing=Timing(repeats=s.repeats),
        limits=Limits(seconds=s.time_limit_s, memory_mb=s.memory_mb),
        cache=Path(s.cache) / "kernels" if s.cache else None,
        sandbox=s.sandbox,
    )


@kernel_app.command("eval")
def eval_command(
    task: Annotated[Path, typer.Argument(help="KernelBench-format task (Model, get_inputs, ...)")],
    candidate: Annotated[Path, typer.Argument(help="candidate module defining ModelNew")],
    backend: Annotated[Backend, typer.Option(help="cpp, triton or cuda")],
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Check a candidate against its task in the sandbox, and time it.

    Exit 0 correct, 1 rejected (with the reason), 3 unverified, 2 bad input.
    """
    from rich.console import Console

    from retarget.kernelgen.evaluate import evaluate
    from retarget.kernelgen.task import load_candidate, load_task

    loaded = load_task(task)
    if not candidate.is_file():
        raise SourceError("no such file", str(candidate))
    source = load_candidate(candidate)
    options = eval_options()
    status = Console(stderr=True).status(f"evaluating {candidate.name} on {loaded.name}")
    with nullcontext() if as_json else status:
        result = evaluate(loaded, source, backend, options)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(f"{result.verdict}: {result.reason}")
        if result.speedup_vs_eager is not None:
            compiled = (f", {result.speedup_vs_compile:.2f}x vs torch.compile"
                        if result.speedup_vs_compile else "")  # fmt: skip
            typer.echo(f"runtime {result.runtime_ms:.4f} ms, {result.speedup_vs_eager:.2f}x vs "
                       f"eager{compiled}")  # fmt: skip
        if result.compile_report.strip():
            typer.echo(result.compile_report.strip())
    raise typer.Exit(result.exit_code)


@kernel_app.command("optimize")
def optimize_command(
    task: Annotated[Path, typer.Argument(help="KernelBench-format task (Model, get_inputs, ...)")],
    backend: Annotated[Backend, typer.Option(help="cpp, triton or cuda")],
    model: Annotated[str | None, typer.Option(help="model name (else RETARGET_MODEL)")] = None,
    rounds: Annotated[int | None, typer.Option(help="coder rounds after the seed")] = None,
    out: Annotated[
        Path | None, typer.Option(help="output directory (default TASK-<backend>)")
    ] = None,
) -> None:
    """Write a faster kernel for a task: a seed from torch.compile's code, then coder, tester
    and judge rounds, every candidate evaluated in the sandbox; the best correct one is kept.

    Exit 0 with a correct kernel, 1 without one, 3 when the best is unverified (CUDA with no
    GPU), 2 bad input. Rerunning with the same --out resumes.
    """
    from retarget.agents.budget import Budget
    from retarget.agents.kernel_run import optimize_task
    from retarget.kernelgen.task import load_task
    from retarget.llm.client import configured_model

    loaded = load_task(task)
    if rounds is not None and rounds < 0:
        raise InputError(f"--rounds must be 0 or more, not {rounds}")
    target = (out or task.with_name(f"{task.stem}-{backend}")).resolve()
    client, settings = configured_model(model, target)
    budget = Budget()
    if rounds is not None:
        budget = budget.model_copy(update={"rounds": rounds})
    kernel_settings = KernelSettings()
    echo = partial(typer.echo, err=True)
    echo(f"optimizing {loaded.name} ({backend}); model: {settings.model or 'none'}; out: {target}")
    run = optimize_task(loaded, backend, target, client, budget, eval_options(kernel_settings),
                        echo, kernel_settings.target_speedup)  # fmt: skip
    o = run.outcome
    typer.echo(f"{o.status}: {o.reason}")
    if o.best is not None:
        figures = o.best.evaluation.figures
        speedup = figures.get("speedup_vs_eager")
        if isinstance(speedup, float):
            typer.echo(f"best: {o.best.origin} round {o.best.round}, {speedup:.2f}x vs eager")
    if run.best_path:
        typer.echo(f"kernel: {run.best_path}")
    typer.echo(f"report: {target / 'report.md'}")
    raise typer.Exit(run.exit_code)
