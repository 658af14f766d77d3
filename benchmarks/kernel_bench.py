"""Evaluate every example kernel candidate and print the figures.

    python benchmarks/kernel_bench.py [--backend cpp|triton|all] [--no-compile]

Per task and backend: verdict, candidate runtime, eager PyTorch and torch.compile runtimes
(median of interleaved repeats in the sandbox), speedups, and fast_1 (share of tasks both
correct and faster than eager). CPU figures on this machine; Triton without a GPU is checked in
the interpreter and not timed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from retarget.kernelgen.evaluate import EvalOptions, evaluate
from retarget.kernelgen.task import load_task

ROOT = Path(__file__).resolve().parent.parent / "examples" / "kernels"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="all", choices=["cpp", "triton", "all"])
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile baseline")
    args = parser.parse_args()
    backends = ["cpp", "triton"] if args.backend == "all" else [args.backend]
    options = EvalOptions(compile_baseline=not args.no_compile, profile=False)
    print(f"{'task':12} {'backend':7} {'verdict':10} {'ms':>8} {'eager ms':>9} {'compile ms':>10}"
          f" {'vs eager':>8} {'vs compile':>10} {'eval s':>6}")  # fmt: skip
    for backend in backends:
        fast = correct = total = 0
        for candidate in sorted((ROOT / backend).glob("*.py")):
            task_path = ROOT / "tasks" / f"{candidate.stem.split('_load_inline')[0]}.py"
            started = time.perf_counter()
            result = evaluate(load_task(task_path), candidate.read_text(), backend,  # type: ignore[arg-type]
                              options)  # fmt: skip
            seconds = time.perf_counter() - started
            total += 1
            correct += result.correct
            fast += bool(result.correct and (result.speedup_vs_eager or 0) > 1)

            def show(value: float | None, spec: str) -> str:
                return "-" if value is None else format(value, spec)

            print(f"{candidate.stem:12} {backend:7} {result.verdict:10} "
                  f"{show(result.runtime_ms, '8.3f')} {show(result.eager_ms, '9.3f')} "
                  f"{show(result.compile_ms, '10.3f')} {show(result.speedup_vs_eager, '7.2f')}x "
                  f"{show(result.speedup_vs_compile, '9.2f')}x {seconds:6.1f}")  # fmt: skip
        print(f"{backend}: {correct}/{total} correct, fast_1 (vs eager) {fast}/{total}")


if __name__ == "__main__":
    main()
