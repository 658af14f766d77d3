"""The kernel evaluator: one candidate against one task, every step that runs their code in
the sandbox, every comparison here in the trusted process.

1. static pass (nothing runs);
2. reference in its own sandboxed process: outputs for every (model seed, input seed) pair;
3. extensions built in the sandbox, only the compiler running, the cache writable;
4. candidate in its own sandboxed process (the cache read-only): trials, repeat, no-op kernels,
   interleaved timing, profile — see :mod:`retarget.kernelgen.harness`;
5. here: outputs compared trial by trial, repeat compared, timing checked against the
   bandwidth floor, the verdict.

Seeds are drawn fresh for every evaluation (or given, to reproduce one).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from retarget.errors import InputError
from retarget.kernelgen.compare import compare
from retarget.kernelgen.harness import Request, Timing
from retarget.kernelgen.native import BuildResult, ExtensionSpec, default_cache
from retarget.kernelgen.profile import (
    KernelMetrics,
    ProfileRow,
    ncu_available,
    ncu_command,
    parse_ncu_csv,
)
from retarget.kernelgen.static import BackendName, check_source
from retarget.kernelgen.task import KernelTask
from retarget.sandbox.docker import DockerConfig, run_container, runtime_binds
from retarget.sandbox.process import Limits, ProcessResult, run_jailed

Verdict = Literal["correct", "rejected", "unverified"]
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
"""Where ``retarget`` is imported from. The jail's ``/tmp`` is private, so a checkout or a
virtual environment under ``/tmp`` must be bound into it explicitly."""
BACKENDS: tuple[BackendName, ...] = ("cpp", "triton", "cuda")


class EvalOptions(BaseModel):
    seeds: int = 5
    """Model seeds; each is run with two input seeds, so ``2 * seeds`` trials."""
    seed: int | None = None
    """First seed; drawn at random when not given."""
    timing: Timing = Timing()
    time_it: bool = True
    compile_baseline: bool = True
    profile: bool = True
    limits: Limits = Limits(seconds=300)
    build_seconds: float = 600
    cache: Path | None = None
    sandbox: Literal["process", "docker"] = "process"
    """Where every untrusted step runs: bubblewrap and prlimit (``process``), or a Docker
    container (:mod:`retarget.sandbox.docker`)."""
    docker: DockerConfig = DockerConfig()
    """The container's image, GPU request, pids and CPU limits, with ``sandbox="docker"``."""


class KernelEvaluation(BaseModel):
    """The verdict on one candidate, with everything measured on the way."""

    task: str
    backend: str
    verdict: Verdict
    reason: str
    correct: bool = False
    stage: str = ""
    line: int | None = None
    seed: int = 0
    trials: int = 0
    max_abs_error: float = 0.0
    runtime_ms: float | None = None
    eager_ms: float | None = None
    compile_ms: float | None = None
    speedup_vs_eager: float | None = None
    speedup_vs_compile: float | None = None
    repeats: int = 0
    launches: dict[str, int] = {}
    profile: str = ""
    profile_rows: list[ProfileRow] = []
    ncu: list[KernelMetrics] = []
    """Nsight Compute's metrics per kernel (a GPU with ``ncu`` only)."""
    floor_ms: float | None = None
    compile_report: str = ""
    device: str = "cpu"

    @property
    def exit_code(self) -> int:
        return {"correct": 0, "rejected": 1, "unverified": 3}[self.verdict]


def gpu_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def evaluate(
    task: KernelTask, source: str, backend: BackendName, options: EvalOptions | None = None
) -> KernelEvaluation:
    options = options or EvalOptions()
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
    seed = options.seed if options.seed is not None else secrets.randbelow(2**31 - 1000)
    gpu = gpu_available()
    if gpu and not options.limits.gpu:  # the jail must see the device nodes
        options = options.model_copy(
            update={"limits": options.limits.model_copy(update={"gpu": True})}
        )
    base = {"task": task.name, "backend": backend, "seed": seed}
    static = check_source(source, backend)
    if not static.ok:
        where = f" (line {static.line})" if static.line else ""
        return KernelEvaluation(**base, verdict="rejected", stage="static", line=static.line,
                                reason=f"static check: {static.reason}{where}")  # fmt: skip
    plan = [(seed + 7 * k, seed + 7 * k + j) for k in range(options.seeds) for j in (0, 1)]
    cache = options.cache or default_cache()
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="retarget-ref-") as ref_dir, \
            tempfile.TemporaryDirectory(prefix="retarget-cand-") as cand_dir:  # fmt: skip
        reference = _run_reference(task, plan, options, Path(ref_dir), cache)
        degenerate = _degenerate(reference, Path(ref_dir))
        if degenerate:
            return KernelEvaluation(**base, verdict="unverified", stage="task", reason=degenerate)
        report = ""
        for spec in static.extensions:
            built = _build(spec, cache, options)
            report += built.cuda_report
            if not built.ok:
                return KernelEvaluation(**base, verdict="rejected", stage="build",
                                        reason=f"build of {spec.name} failed:\n{built.log}",
                                        compile_report=report)  # fmt: skip
        if backend == "cuda" and not gpu:
            return KernelEvaluation(**base, verdict="unverified", stage="build",
                                    compile_report=report,
                                    reason="no GPU here: the CUDA sources compile for sm_90, "
                                           "but nothing ran, so correctness is unknown")  # fmt: skip
        interpreted = backend == "triton" and not gpu
        result = _run_candidate(task, source, backend, plan, options, Path(cand_dir), cache,
                                interpreted)  # fmt: skip
        if "reason" in result:
            return KernelEvaluation(**base, verdict="rejected", stage=result["stage"],
                                    reason=result["reason"], compile_report=report)  # fmt: skip
        if result.get("triton"):
            result["aot"] = _triton_aot(Path(cand_dir), result["triton"], options)
        verdict = _judge(base, result, reference, Path(ref_dir), Path(cand_dir), report,
                         interpreted)  # fmt: skip
        if verdict.correct and verdict.device == "cuda" and ncu_available():
            verdict.ncu = _nsight(task, source, backend, plan, options, cache)
        return verdict


def _run_reference(
    task: KernelTask, plan: list[tuple[int, int]], options: EvalOptions, scratch: Path,
    cache: Path,
) -> dict[str, Any]:  # fmt: skip
    (scratch / "task.py").write_text(task.source)
    inductor = cache.parent / "inductor"
    inductor.mkdir(parents=True, exist_ok=True)
    request = Request(role="reference", task=str(scratch / "task.py"), plan=plan,
                      timing=options.timing, compile_baseline=options.compile_baseline
                      and options.time_it, nonce=secrets.token_hex(16))  # fmt: skip
    done = _harness(request, scratch, options.limits, writable=[inductor],
                    env={"TORCHINDUCTOR_CACHE_DIR": str(inductor)}, options=options)  # fmt: skip
    result = _result(done, scratch, request.nonce)
    if "reason" in result:
        raise InputError(f"{task.path}: the reference task failed: {result['reason']}")
    return result


def _run_candidate(
    task: KernelTask, source: str, backend: str, plan: list[tuple[int, int]],
    options: EvalOptions, scratch: Path, cache: Path, interpreted: bool,
) -> dict[str, Any]:  # fmt: skip
    (scratch / "task.py").write_text(task.source)
    (scratch / "candidate.py").write_text(source)
    request = Request(role="candidate", task=str(scratch / "task.py"),
                      candidate=str(scratch / "candidate.py"), backend=backend, plan=plan,
                      cache=str(cache), timing=options.timing,
                      time_it=options.time_it and not interpreted, profile=options.profile,
                      nonce=secrets.token_hex(16))  # fmt: skip
    env = {"TRITON_INTERPRET": "1"} if interpreted else {}
    done = _harness(request, scratch, options.limits, read_only=[cache], env=env,
                    options=options)  # fmt: skip
    return _result(done, scratch, request.nonce)


def jailed_python(
    module: str, args: list[str], scratch: Path, limits: Limits, *, stdin: str,
    read_only: list[Path] | None = None, writable: list[Path] | None = None,
    env: dict[str, str] | None = None, options: EvalOptions | None = None,
    prefix: list[str] | None = None,
) -> ProcessResult:  # fmt: skip
    """``python -m MODULE ARGS`` in the jail, able to import retarget and its dependencies; in
    the sandbox ``options.sandbox`` names (bubblewrap by default). ``prefix`` runs it under
    another program (Nsight Compute)."""
    path = {"PYTHONPATH": str(PACKAGE_ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    argv = [*(prefix or []), sys.executable, "-m", module, *args]
    if options is not None and options.sandbox == "docker":
        return run_container(argv, scratch, limits, config=options.docker, stdin=stdin,
                             env={**path, **(env or {})}, writable=writable or [],
                             read_only=[PACKAGE_ROOT, *runtime_binds(), *(read_only or [])])  # fmt: skip
    visible = [PACKAGE_ROOT, Path(sys.prefix).resolve(), *(read_only or [])]
    return run_jailed(argv, scratch, limits, stdin=stdin, env={**path, **(env or {})},
                      read_only=visible, writable=writable or [])  # fmt: skip


def _harness(
    request: Request, scratch: Path, limits: Limits, *, read_only: list[Path] | None = None,
    writable: list[Path] | None = None, env: dict[str, str] | None = None,
    options: EvalOptions | None = None, prefix: list[str] | None = None,
) -> ProcessResult:  # fmt: skip
    quiet = {"TRITON_DEFAULT_FP_FUSION": "1", "OMP_NUM_THREADS": str(os.cpu_count() or 1)}
    return jailed_python("retarget.kernelgen.harness", [], scratch, limits,
                         env={**quiet, **(env or {})}, read_only=read_only,
                         writable=writable, stdin=request.model_dump_json(),
                         options=options, prefix=prefix)  # fmt: skip


def _nsight(
    task: KernelTask, source: str, backend: str, plan: list[tuple[int, int]],
    options: EvalOptions, cache: Path,
) -> list[KernelMetrics]:  # fmt: skip
    """Nsight Compute's metrics of the candidate's kernels: the harness's profile role (two
    forward calls, nothing compared) under ``ncu`` in the same jail."""
    with tempfile.TemporaryDirectory(prefix="retarget-ncu-") as where:
        scratch = Path(where)
        (scratch / "task.py").write_text(task.source)
        (scratch / "candidate.py").write_text(source)
        request = Request(role="profile", task=str(scratch / "task.py"), backend=backend,
                          candidate=str(scratch / "candidate.py"), plan=plan[:1],
                          cache=str(cache), nonce=secrets.token_hex(16))  # fmt: skip
        done = _harness(request, scratch, options.limits, read_only=[cache], options=options,
                        prefix=ncu_command())  # fmt: skip
    return parse_ncu_csv(done.stdout)


_OUT_OF_MEMORY = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory",
                  "can't allocate memory",
                  "memory limit")  # fmt: skip


def _result(done: ProcessResult, scratch: Path, nonce: str) -> dict[str, Any]:
    """The harness's result, or ``{"stage", "reason"}`` for a run that did not finish."""
    tail = done.stderr.strip()[-1500:]
    if done.timed_out:
        return {"stage": "run", "reason": f"the time limit ({done.seconds:.0f} s) was reached"}
    path = scratch / "result.json"
    try:
        result: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        result = {}
    if result.get("nonce") != nonce:
        how = f"signal {done.signal_name}" if done.signal_name else f"exit {done.returncode}"
        if any(marker in tail for marker in _OUT_OF_MEMORY):
            return {"stage": "run", "reason": f"the memory limit was reached ({how})"}
        return {"stage": "run", "reason": "the process ended before the evaluation finished "
                f"({how}); its last output:\n{tail}"}  # fmt: skip
    if "error" in result:
        error = str(result["error"])
        if any(marker in error for marker in _OUT_OF_MEMORY):
            error = f"the memory limit was reached: {error}"
        return {"stage": result.get("stage", "run"), "reason": error}
    return result


def _build(spec: ExtensionSpec, cache: Path, options: EvalOptions) -> BuildResult:
    built = cache / f"{spec.module_name}.so"
    if built.is_file():  # only the build jail writes the cache, under the sources' hash
        return BuildResult(ok=True, path=str(built))
    with tempfile.TemporaryDirectory(prefix="retarget-build-") as scratch:
        limits = Limits(seconds=options.build_seconds, memory_mb=16384, gpu=options.limits.gpu)
        done = jailed_python("retarget.kernelgen.native", [str(cache)], Path(scratch), limits,
                             writable=[cache], stdin=spec.model_dump_json(),
                             options=options)  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        why = "time limit" if done.timed_out else f"exit {done.returncode}"
        return BuildResult(
            ok=False, log=f"the build process failed ({why}):\n{done.stderr[-3000:]}"
        )
    return BuildResult.model_validate_json(lines[-1])


def _triton_aot(scratch: Path, kernels: dict[str, Any], options: EvalOptions) -> dict[str, str]:
    done = jailed_python("retarget.kernelgen.aot", ["candidate.py"], scratch,
                         Limits(seconds=options.build_seconds), stdin=json.dumps(kernels),
                         env={"TRITON_DEFAULT_FP_FUSION": "1"}, options=options)  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"(all)": f"error: the Triton compile step failed: {done.stderr[-2000:]}"}
    report: dict[str, str] = json.loads(lines[-1])
    return report


def _load(path: Path) -> list[Any]:
    import torch

    value = torch.load(str(path), weights_only=True)
    return list(value) if isinstance(value, list | tuple) else [value]


def _degenerate(reference: dict[str, Any], scratch: Path) -> str:
    """A task whose outputs do not change with the inputs cannot tell a kernel from a
    constant."""
    outputs = [_load(scratch / t["outputs"]) for t in reference["trials"]]
    if len(outputs) > 1 and all(compare(o, outputs[0]).ok for o in outputs[1:]):
        return ("the task's outputs do not change with its inputs and weights, so a constant "
                "would pass: correctness cannot be established")  # fmt: skip
    return ""


def _judge(
    base: dict[str, Any], result: dict[str, Any], reference: dict[str, Any], ref_dir: Path,
    cand_dir: Path, report: str, interpreted: bool,
) -> KernelEvaluation:  # fmt: skip
    extra: dict[str, Any] = {"launches": result.get("launches", {}),
                             "profile": result.get("profile", ""), "compile_report": report,
                             "profile_rows": result.get("profile_rows", []),
                             "device": result.get("device", "cpu")}  # fmt: skip
    worst = 0.0
    plan_trials = list(zip(result["trials"], reference["trials"], strict=True))
    for k, (mine, theirs) in enumerate(plan_trials):
        if mine["inputs"] != theirs["inputs"]:
            return KernelEvaluation(**base, **extra, verdict="unverified", stage="task",
                                    reason="the task's get_inputs() is not reproducible from a "
                                           "seed")  # fmt: skip
        verdict = compare(_load(cand_dir / mine["outputs"]), _load(ref_dir / theirs["outputs"]))
        worst = max(worst, verdict.max_abs_error)
        if not verdict.ok:
            return KernelEvaluation(**base, **extra, verdict="rejected", stage="correctness",
                                    trials=k + 1, max_abs_error=worst,
                                    reason=f"wrong output in trial {k + 1}: {verdict.reason}")  # fmt: skip
    if result.get("findings"):
        return KernelEvaluation(**base, **extra, verdict="rejected", stage="anti-cheat",
                                trials=len(plan_trials), max_abs_error=worst,
                                reason=result["findings"][0])  # fmt: skip
    again = compare(_load(cand_dir / "repeat_0.pt"), _load(cand_dir / "out_0.pt"))
    if not again.ok:
        return KernelEvaluation(**base, **extra, verdict="rejected", stage="anti-cheat",
                                reason=f"a repeated run disagrees: {again.reason}")  # fmt: skip
    aot = {k: v for k, v in result.get("aot", {}).items() if v.startswith("error")}
    if aot:
        name, error = next(iter(aot.items()))
        return KernelEvaluation(**base, **extra, verdict="rejected", stage="build",
                                reason=f"Triton kernel {name} does not compile for sm_90: {error}")  # fmt: skip
    if result.get("aot"):
        extra["compile_report"] += "\n".join(f"{k}: {v}" for k, v in result["aot"].items())
    done = {**base, **extra, "trials": len(plan_trials), "max_abs_error": worst, "correct": True}
    if interpreted:
        return KernelEvaluation(**done, verdict="correct", stage="done",
                                reason="correct in the Triton interpreter (no GPU: not timed; "
                                       "compiled for sm_90)")  # fmt: skip
    if "runtime_ms" not in result:
        return KernelEvaluation(**done, verdict="correct", stage="done",
                                reason="correct (not timed)")  # fmt: skip
    runtime, eager = float(result["runtime_ms"]), float(result["eager_ms"])
    figures = {"runtime_ms": runtime, "eager_ms": eager, "repeats": result.get("repeats", 0),
               "compile_ms": reference.get("compile_ms")}  # fmt: skip
    floor = float(result.get("floor_ms", 0.0))
    figures["floor_ms"] = floor or None
    if runtime < floor:
        return KernelEvaluation(**done, **figures, verdict="unverified", stage="timing",
                                reason=f"correct, but {runtime:.4f} ms per call is below the "
                                       f"memory-bandwidth floor of {floor:.4f} ms: the timing "
                                       "cannot be trusted, so no speedup is reported")  # fmt: skip
    speedup = eager / runtime if runtime > 0 else None
    compiled = figures["compile_ms"]
    return KernelEvaluation(**done, **figures, verdict="correct", stage="done",
                            speedup_vs_eager=speedup,
                            speedup_vs_compile=(compiled / runtime) if compiled and runtime else None,
                            reason=f"correct over {len(plan_trials)} trials; {runtime:.3f} ms "
                                   f"vs eager {eager:.3f} ms")  # fmt: skip
