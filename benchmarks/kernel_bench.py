"""Evaluate every example kernel candidate and print the figures.

    python benchmarks/kernel_bench.py [--backend cpp|triton|all] [--no-compile] [--repeats N]

Per task and backend: verdict, candidate runtime, eager PyTorch and torch.compile runtimes
(median of interleaved repeats in the sandbox), speedups; the evaluation's wall time with a
cold build cache and again with a warm one (the warm run is the evaluator's own overhead, the
compilation excluded); the time to find a built extension in the cache; fast_p at p = 1 and
1.5 (share of tasks both correct and faster than p x eager). CPU figures on a machine without
a GPU, where Triton runs in the interpreter and is not timed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from retarget.kernelgen.evaluate import EvalOptions, _build, evaluate
from retarget.kernelgen.harness import Timing
from retarget.kernelgen.static import check_source
from retarget.kernelgen.task import load_task

ROOT = Path(__file__).resolve().parent.parent / "examples" / "kernels"


def show(value: float | None, spec: str, unit: str = "") -> str:
    return "-" if value is None else format(value, spec) + unit


def cached_build_seconds(source: str, backend: str, options: EvalOptions) -> float | None:
    """Seconds for the sandboxed build step to find every extension already in the cache."""
    specs = check_source(source, backend).extensions  # type: ignore[arg-type]
    if not specs or options.cache is None:
        return None
    started = time.perf_counter()
    for spec in specs:
        _build(spec, options.cache, options)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="all", choices=["cpp", "triton", "all"])
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile baseline")
    parser.add_argument("--repeats", type=int, default=100, help="timed calls of each side")
    args = parser.parse_args()
    backends = ["cpp", "triton"] if args.backend == "all" else [args.backend]
    cache = Path(tempfile.mkdtemp(prefix="retarget-bench-")) / "kernels"  # inductor beside it
    options = EvalOptions(compile_baseline=not args.no_compile, profile=False, cache=cache,
                          timing=Timing(repeats=args.repeats))  # fmt: skip
    print(f"{'task':18} {'backend':7} {'verdict':10} {'ms':>8} {'eager ms':>9} {'compile ms':>10}"
          f" {'vs eager':>8} {'vs compile':>10} {'cold s':>6} {'warm s':>6} {'cached':>7}")  # fmt: skip
    for backend in backends:
        speedups: list[float | None] = []
        correct = 0
        warm_all: list[float] = []
        device = "cpu"
        for candidate in sorted((ROOT / backend).glob("*.py")):
            task = load_task(ROOT / "tasks" / f"{candidate.stem.split('_load_inline')[0]}.py")
            source = candidate.read_text()
            times = []
            for _ in range(2):  # cold cache, then warm
                started = time.perf_counter()
                result = evaluate(task, source, backend, options)  # type: ignore[arg-type]
                times.append(time.perf_counter() - started)
            device = result.device
            warm_all.append(times[1])
            cached = cached_build_seconds(source, backend, options)
            correct += result.correct
            speedups.append(result.speedup_vs_eager if result.correct else None)
            print(f"{candidate.stem:18} {backend:7} {result.verdict:10} "
                  f"{show(result.runtime_ms, '8.3f'):>8} {show(result.eager_ms, '9.3f'):>9} "
                  f"{show(result.compile_ms, '10.3f'):>10} {show(result.speedup_vs_eager, '7.2f', 'x'):>8} "
                  f"{show(result.speedup_vs_compile, '9.2f', 'x'):>10} {times[0]:6.1f} "
                  f"{times[1]:6.1f} {show(cached, '6.3f', 's'):>7}")  # fmt: skip
        total = len(speedups)
        fast = {p: sum(1 for s in speedups if s is not None and s > p) for p in (1.0, 1.5)}
        print(f"{backend} on {device}: correct {correct}/{total}; fast_1 {fast[1.0]}/"
              f"{total}, fast_1.5 {fast[1.5]}/{total} (vs eager); evaluation overhead with the "
              f"build cached: median {statistics.median(warm_all):.1f} s per candidate")  # fmt: skip


if __name__ == "__main__":
    main()
