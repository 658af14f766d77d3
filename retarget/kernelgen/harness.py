# mypy: disable-error-code="no-untyped-call"
"""The evaluation harness: runs *inside* the sandbox, one process per role.

``python -m retarget.kernelgen.harness`` reads a :class:`Request` on stdin and writes
``result.json`` (with the request's nonce) into its working directory as its very last act, so a
candidate that exits early — even with status 0 after printing "success" — leaves no result.

Reference role: build ``Model`` and inputs for every (model seed, input seed) pair of the plan,
save the outputs; time eager and, if asked, ``torch.compile``.

Candidate role, in this order (the reference is not even imported until step 5, so no
reference output exists in this process before the candidate has produced its own):

1. Before the candidate is imported, wrap the kernel entry points: loaded extensions'
   functions and Triton launches are counted, can be switched to a no-op, and show in the
   profiler; every aten op run during ``forward`` outside a Triton launch is recorded.
2. Every plan pair: fresh inputs, ``forward``, the inputs compared with copies taken before,
   outputs saved. One model instance serves consecutive input seeds, so a cache keyed by
   shape or address returns a stale answer and fails.
3. The first pair again on fresh tensors, after filling freed memory with NaN (repeatability).
4. The first pair with every kernel a no-op: if the output is still right, the kernels are
   decoration and the work is done elsewhere.
5. Timing against the reference, interleaved, then the last outputs compared in-process.
6. A short profile (per-kernel times).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from pydantic import BaseModel

from retarget.kernelgen.compare import compare

# Bound before any candidate code exists in the process.
_perf_counter = time.perf_counter
_write_text = Path.write_text

ALLOWED_ATEN = {
    "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "zero_", "new_empty",
    "new_empty_strided", "new_zeros", "view", "_unsafe_view", "reshape", "_reshape_alias",
    "as_strided", "t", "transpose", "permute", "expand", "unsqueeze", "squeeze", "select",
    "slice", "split", "split_with_sizes", "chunk", "unbind", "narrow", "detach", "alias",
    "lift_fresh", "clone", "copy_", "_to_copy", "contiguous", "sym_size", "sym_stride",
    "sym_numel", "sym_storage_offset", "is_contiguous", "dim", "size", "stride", "numel",
    "_local_scalar_dense", "lift", "_has_compatible_shallow_copy_type", "set_", "resize_",
}  # fmt: skip
"""aten ops that allocate, describe, view or copy: everything else is compute."""


class Timing(BaseModel):
    warmup: int = 3
    repeats: int = 100
    min_repeats: int = 5
    max_seconds: float = 10.0
    """Per side; the repeats stop early once it is spent (CPU runs of slow references)."""


class Request(BaseModel):
    role: Literal["reference", "candidate", "profile"]
    task: str
    candidate: str = ""
    backend: str = "cpp"
    plan: list[tuple[int, int]]
    cache: str = ""
    timing: Timing = Timing()
    time_it: bool = True
    compile_baseline: bool = False
    profile: bool = True
    nonce: str


class Launches:
    """Counts kernel calls; ``disabled`` turns every kernel into a no-op."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.disabled = False
        self.protected: set[int] = set()
        self.in_launch = 0
        self.signatures: dict[str, dict[str, Any]] = {}
        self.findings: list[str] = []
        """Anti-cheat findings the evaluator reports once the outputs are known to be right
        (a wrong output is the more useful reason when there is one)."""

    def poison(self, values: Any) -> None:
        import torch

        for value in values:
            if isinstance(value, torch.Tensor) and value.data_ptr() not in self.protected:
                if value.is_floating_point():
                    value.fill_(float("nan"))
                else:
                    value.fill_(-7)


LAUNCHES = Launches()


def _wrap_function(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    import torch

    def call(*args: Any, **kwargs: Any) -> Any:
        LAUNCHES.counts[label] += 1
        if LAUNCHES.disabled:  # run it for its return value, then spoil all it wrote
            result = function(*args, **kwargs)
            LAUNCHES.poison([*args, *kwargs.values()])
            LAUNCHES.poison(result if isinstance(result, tuple | list) else [result])
            return result
        with torch.profiler.record_function(f"kernel:{label}"):
            return function(*args, **kwargs)

    return call


class _Extension:
    def __init__(self, module: Any, label: str, functions: list[str]) -> None:
        for name in functions:
            setattr(self, name, _wrap_function(f"{label}.{name}", getattr(module, name)))


def _install_loaders(cache: Path) -> None:
    from torch.utils import cpp_extension

    from retarget.kernelgen import native

    def loader(kind: str) -> Callable[..., Any]:
        def load(*args: Any, **kwargs: Any) -> Any:
            spec = native.spec_from_call(kind, list(args), kwargs)
            return _Extension(native.load(spec, cache), spec.name, spec.functions)

        return load

    cpp_extension.load_inline = loader("load_inline")
    native.load_cpp = loader("load_cpp")


def _install_triton() -> None:
    try:
        from triton.runtime import interpreter, jit
    except ImportError:
        return

    for cls in (jit.JITFunction, interpreter.InterpretedFunction):
        original = cls.run

        def run(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            raw = getattr(self, "fn", None)
            name = getattr(raw, "__name__", None) or type(self).__name__
            LAUNCHES.counts[name] += 1
            if name not in LAUNCHES.signatures and raw is not None:
                LAUNCHES.signatures[name] = {"fn": raw, "args": _signature(raw, args, kwargs)}
            if LAUNCHES.disabled:
                LAUNCHES.poison([*args, *kwargs.values()])
                return None
            import torch

            LAUNCHES.in_launch += 1
            try:
                with torch.profiler.record_function(f"kernel:{name}"):
                    return _original(self, *args, **kwargs)
            finally:
                LAUNCHES.in_launch -= 1

        cls.run = run


def _signature(fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Triton types of one launch's arguments, for the ahead-of-time compile."""
    import inspect

    import torch

    parameters = inspect.signature(fn).parameters
    names = list(parameters)
    values = dict(zip(names, args, strict=False)) | {k: v for k, v in kwargs.items() if k in names}
    constexprs = {n for n, p in parameters.items() if "constexpr" in str(p.annotation)}
    types = {torch.float32: "*fp32", torch.float16: "*fp16", torch.bfloat16: "*bf16",
             torch.float64: "*fp64", torch.int32: "*i32", torch.int64: "*i64",
             torch.int8: "*i8", torch.uint8: "*u8", torch.bool: "*i1"}  # fmt: skip
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in constexprs:
            out[name] = ["constexpr", value]
        elif isinstance(value, torch.Tensor):
            out[name] = [types.get(value.dtype, "*fp32"), None]
        elif isinstance(value, bool):
            out[name] = ["i1", None]
        elif isinstance(value, int):
            out[name] = ["i32" if -(2**31) <= value < 2**31 else "i64", None]
        elif isinstance(value, float):
            out[name] = ["fp32", None]
    return out


class _Audit:
    """Records aten ops run outside Triton launches (a TorchDispatchMode)."""

    def __init__(self) -> None:
        from torch.utils._python_dispatch import TorchDispatchMode

        audit = self
        self.ops: Counter[str] = Counter()

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(
                self, func: Any, types: Any, args: Any = (), kwargs: Any = None
            ) -> Any:
                if not LAUNCHES.in_launch and func.namespace != "profiler":
                    base = func.overloadpacket.__name__
                    if base not in ALLOWED_ATEN:
                        audit.ops[str(func)] += 1
                return func(*args, **(kwargs or {}))

        self.mode = Mode


def _load_module(path: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _seeded(seed: int, make: Callable[[], Any]) -> Any:
    import torch

    torch.manual_seed(seed)
    return make()


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _to_device(values: list[Any], device: str) -> list[Any]:
    import torch

    return [v.to(device) if isinstance(v, torch.Tensor) else v for v in values]


def _fresh_inputs(task: ModuleType, seed: int, device: str) -> list[Any]:
    return _to_device(list(_seeded(seed, task.get_inputs)), device)


def _model(task: ModuleType, cls: Any, seed: int, device: str) -> Any:
    init = list(_seeded(seed, task.get_init_inputs))
    model = _seeded(seed, lambda: cls(*init))
    return model.to(device) if hasattr(model, "to") else model


def _fingerprint(values: Any) -> str:
    import torch

    digest = hashlib.sha256()
    for value in values if isinstance(values, list | tuple) else [values]:
        if isinstance(value, torch.Tensor):
            digest.update(value.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()[:16]


def _as_list(output: Any) -> list[Any]:
    return list(output) if isinstance(output, tuple | list) else [output]


def _save(outputs: Any, path: Path) -> None:
    import torch

    cpu = [o.detach().cpu() if isinstance(o, torch.Tensor) else o for o in _as_list(outputs)]
    torch.save(cpu, str(path))


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def _time_calls(calls: list[Callable[[], Any]], timing: Timing, device: str) -> list[list[float]]:
    """Milliseconds per call of each, interleaved call by call after a warm-up, so every side
    runs under the same conditions (other load on the machine included)."""
    import torch

    for _ in range(timing.warmup):
        for call in calls:
            call()
    _sync(device)
    flush = torch.empty(64 * 1024 * 1024, dtype=torch.int32, device=device) if (
        device == "cuda") else None  # fmt: skip
    times: list[list[float]] = [[] for _ in calls]
    spent = [0.0 for _ in calls]
    for _ in range(timing.repeats):
        for side, call in enumerate(calls):
            if flush is not None:
                flush.zero_()  # 256 MB through L2 between repeats
            elapsed = _timed(call, device)
            times[side].append(elapsed)
            spent[side] += elapsed / 1000
        if len(times[0]) >= timing.min_repeats and max(spent) > timing.max_seconds:
            break
    return times


def _timed(call: Callable[[], Any], device: str) -> float:
    import torch

    if device == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        host = _perf_counter()
        start.record()
        call()
        end.record()
        torch.cuda.synchronize()  # the whole device: work hidden on a side stream counts too
        host_ms = (_perf_counter() - host) * 1000
        device_ms = float(start.elapsed_time(end))
        # Work on another stream escapes the events but not the device-wide synchronize.
        return host_ms if host_ms > 2 * device_ms + 0.1 else device_ms
    began = _perf_counter()
    call()
    return (_perf_counter() - began) * 1000


def _copy_of_io(outputs: list[Any], inputs: list[Any], device: str) -> Callable[[], Any]:
    """A copy of as many bytes as the call's inputs and outputs: timed beside the candidate,
    it gives the bandwidth floor (the copy reads and writes them, a kernel must at least read
    the inputs and write the outputs once)."""
    import torch

    tensors = [t for t in [*inputs, *outputs] if isinstance(t, torch.Tensor)]
    size = sum(t.numel() * t.element_size() for t in tensors)
    source = torch.zeros(max(size // 4, 1), dtype=torch.float32, device=device)
    target = torch.zeros_like(source)
    return lambda: target.copy_(source)


def _profile(model: Any, inputs: list[Any], device: str) -> dict[str, Any]:
    """Three profiled calls: the table as torch prints it, and per-op rows for the summary
    the judge reads (times in ms per call)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    calls = 3
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    with torch.no_grad(), profile(activities=activities) as prof:
        for _ in range(calls):
            model(*inputs)
        _sync(device)
    key = "self_cuda_time_total" if device == "cuda" else "self_cpu_time_total"
    averages = prof.key_averages()
    table: str = averages.table(sort_by=key, row_limit=8, max_name_column_width=40)
    rows = []
    for event in averages:
        self_us = float(getattr(event, "self_device_time_total" if device == "cuda"
                                else "self_cpu_time_total", 0.0))  # fmt: skip
        rows.append({"name": event.key, "calls": event.count // calls,
                     "self_ms": self_us / 1000 / calls,
                     "total_ms": float(event.cpu_time_total) / 1000 / calls})  # fmt: skip
    rows.sort(key=lambda r: -r["self_ms"])
    return {"table": table, "rows": rows[:12]}


def reference(request: Request, out: Path) -> dict[str, Any]:
    import torch

    device = _device()
    task = _load_module(request.task, "reference_task")
    models: dict[int, Any] = {}
    trials = []
    last: tuple[Any, list[Any]] | None = None
    for k, (model_seed, input_seed) in enumerate(request.plan):
        if model_seed not in models:
            models[model_seed] = _model(task, task.Model, model_seed, device)
        model = models[model_seed]
        inputs = _fresh_inputs(task, input_seed, device)
        with torch.no_grad():
            outputs = model(*inputs)
        _save(outputs, out / f"ref_{k}.pt")
        trials.append({"inputs": _fingerprint(inputs), "outputs": f"ref_{k}.pt"})
        last = (model, inputs)
    result: dict[str, Any] = {"trials": trials, "device": device}
    if request.compile_baseline and last is not None:
        model, inputs = last
        compiled = torch.compile(model)
        with torch.no_grad():
            eager, fast = _time_calls([lambda: model(*inputs), lambda: compiled(*inputs)],
                                      request.timing, device)  # fmt: skip
        result["eager_ms"] = statistics.median(eager)
        result["compile_ms"] = statistics.median(fast)
    return result


def _load_candidate(request: Request) -> tuple[str, ModuleType, ModuleType]:
    """The device, the task (for its inputs) and the candidate module, imported only after
    its kernel entry points are wrapped."""
    device = _device()
    _install_loaders(Path(request.cache))
    _install_triton()
    task = _load_module(request.task, "candidate_task_inputs")
    return device, task, _load_module(request.candidate, "candidate")


def candidate(request: Request, out: Path) -> dict[str, Any]:
    device, task, module = _load_candidate(request)
    models: dict[int, Any] = {}
    trials = _trials(request, task, module, models, device, out)
    if isinstance(trials, dict):
        return trials
    model = models[request.plan[0][0]]
    problem = _repeat_and_noop(request, task, model, device, out)
    if problem:
        LAUNCHES.findings.append(problem)
    result: dict[str, Any] = {"trials": trials, "device": device,
                              "launches": dict(LAUNCHES.counts)}  # fmt: skip
    if request.time_it and not LAUNCHES.findings:
        timing = _time_against_reference(request, task, model, device)
        if "error" in timing:
            LAUNCHES.findings.append(timing["error"])
        else:
            result |= timing
    result["findings"] = LAUNCHES.findings
    if request.profile:
        profiled = _profile(model, _fresh_inputs(task, request.plan[0][1], device), device)
        result["profile"], result["profile_rows"] = profiled["table"], profiled["rows"]
    if request.backend == "triton":  # compiled for a GPU by retarget.kernelgen.aot, outside
        result["triton"] = {k: v["args"] for k, v in LAUNCHES.signatures.items()}
    return result


def profile_only(request: Request, out: Path) -> dict[str, Any]:
    """The profile role, run under Nsight Compute: the candidate's forward on the first plan
    pair, twice (warm, then the launch ncu reads last), nothing else."""
    import torch

    device, task, module = _load_candidate(request)
    model = _model(task, module.ModelNew, request.plan[0][0], device)
    inputs = _fresh_inputs(task, request.plan[0][1], device)
    with torch.no_grad():
        for _ in range(2):
            model(*inputs)
    _sync(device)
    return {"launches": dict(LAUNCHES.counts)}


def _trials(
    request: Request,
    task: ModuleType,
    module: ModuleType,
    models: dict[int, Any],
    device: str,
    out: Path,
) -> list[dict[str, str]] | dict[str, str]:
    """Step 2: every plan pair, audited; a dict is the rejection."""
    import torch

    audit = _Audit()
    trials: list[dict[str, str]] = []
    findings: list[str] = []
    for k, (model_seed, input_seed) in enumerate(request.plan):
        if model_seed not in models:
            models[model_seed] = _model(task, module.ModelNew, model_seed, device)
        inputs = _fresh_inputs(task, input_seed, device)
        kept = [v.clone() if isinstance(v, torch.Tensor) else v for v in inputs]
        before = sum(LAUNCHES.counts.values())
        with torch.no_grad(), audit.mode():
            outputs = models[model_seed](*inputs)
        _sync(device)
        if audit.ops:
            ops = ", ".join(f"{op} x{n}" for op, n in audit.ops.most_common(4))
            return {"stage": "anti-cheat", "error": f"torch compute at run time: {ops}"}
        if sum(LAUNCHES.counts.values()) == before and not findings:
            findings.append(f"forward ran no kernel of the backend in trial {k + 1} (an answer "
                            "kept from an earlier call, or computed some other way)")  # fmt: skip
        if not all(_same(a, b) for a, b in zip(inputs, kept, strict=True)):
            return {"stage": "anti-cheat", "error": "the candidate changed its inputs"}
        _save(outputs, out / f"out_{k}.pt")
        trials.append({"inputs": _fingerprint(inputs), "outputs": f"out_{k}.pt"})
    LAUNCHES.findings += findings
    return trials


def _repeat_and_noop(request: Request, task: ModuleType, model: Any, device: str, out: Path) -> str:
    """Steps 3 and 4; the reason to reject, or ''."""
    import torch

    first = _as_list(torch.load(str(out / "out_0.pt"), weights_only=True))
    _poison_free_memory(first, device)
    again = _fresh_inputs(task, request.plan[0][1], device)
    with torch.no_grad():
        _save(model(*again), out / "repeat_0.pt")
    fresh = _fresh_inputs(task, request.plan[0][1], device)
    LAUNCHES.protected = {v.data_ptr() for v in fresh if isinstance(v, torch.Tensor)}
    LAUNCHES.protected |= {p.data_ptr() for p in _tensors_of(model)}
    LAUNCHES.disabled = True
    try:
        with torch.no_grad():
            noop = [o.cpu() if isinstance(o, torch.Tensor) else o
                    for o in _as_list(model(*fresh))]  # fmt: skip
        _sync(device)
    except Exception:  # a kernel the output needs: its absence may well crash
        return ""
    finally:
        LAUNCHES.disabled = False
    if compare(noop, first).ok:
        return "the output does not depend on the kernels (still right with every kernel a no-op)"
    return ""


def _time_against_reference(
    request: Request, task: ModuleType, model: Any, device: str
) -> dict[str, Any]:
    import torch

    reference_task = _load_module(request.task, "reference_task")
    reference = _model(reference_task, reference_task.Model, request.plan[0][0], device)
    inputs = _fresh_inputs(task, request.plan[0][1], device)
    got: list[Any] = []
    want: list[Any] = []
    with torch.no_grad():
        copy = _copy_of_io(_as_list(reference(*inputs)), inputs, device)
        mine, theirs, copies = _time_calls([lambda: got.append(model(*inputs)),
                                            lambda: want.append(reference(*inputs)), copy],
                                           request.timing, device)  # fmt: skip
    cpu = [[o.cpu() if isinstance(o, torch.Tensor) else o for o in _as_list(x[-1])]
           for x in (got, want)]  # fmt: skip
    if not compare(cpu[0], cpu[1]).ok:
        return {"error": "outputs during timing differ from the reference"}
    # Half the copy's time (it moves the bytes twice), with 4x slack for caches.
    floor = statistics.median(copies) / 2 / 4
    return {"runtime_ms": statistics.median(mine), "eager_ms": statistics.median(theirs),
            "repeats": len(mine), "floor_ms": floor}  # fmt: skip


def _tensors_of(model: Any) -> list[Any]:
    if not hasattr(model, "parameters"):
        return []
    return [*model.parameters(), *model.buffers()]


def _poison_free_memory(like: list[Any], device: str) -> None:
    """Allocate, NaN-fill and free buffers the size of the outputs, so memory handed out next
    holds NaN rather than the previous answer."""
    import torch

    for value in like:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            block = torch.empty(value.numel() * 4 + 1024, dtype=value.dtype, device=device)
            block.fill_(float("nan"))
            del block


def _same(a: Any, b: Any) -> bool:
    import torch

    if not isinstance(a, torch.Tensor):
        return bool(a == b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point():
        return bool(((a == b) | (a.isnan() & b.isnan())).all())
    return bool(torch.equal(a, b))


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Candidate prints go to stderr, so stdout stays the harness's own."""
    saved = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout = saved


def main() -> None:
    request = Request.model_validate_json(sys.stdin.read())
    out = Path.cwd()
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    started = _perf_counter()
    try:
        with _quiet_stdout():
            run = {"reference": reference, "candidate": candidate,
                   "profile": profile_only}[request.role]  # fmt: skip
            result = run(request, out)
    except MemoryError:
        result = {"stage": "run", "error": "the memory limit was reached"}
    except BaseException as exc:  # everything a candidate raises is a finding, SystemExit too
        result = {"stage": "run", "error": f"{type(exc).__name__}: {str(exc)[:2000]}"}
    result |= {"nonce": request.nonce, "seconds": _perf_counter() - started}
    _write_text(out / "result.json", json.dumps(result, default=str))
    os._exit(0)  # no atexit handler of the candidate's runs after the result


if __name__ == "__main__":
    main()
