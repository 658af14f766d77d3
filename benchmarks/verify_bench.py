"""Figures for the differential verifier (prints, never asserts).

    python benchmarks/verify_bench.py [--mutation-functions N]

Prints median/p90 wall time to verify one corpus pair per target and -O level, emulated
instructions per second with coverage on and off, and the mutation kill rate.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from retarget.isa import X86_64
from retarget.sandbox.emulator import Machine, load_program
from retarget.sandbox.emulator.loader import clear_caches
from retarget.testgen.inputs import make_plan, parse_sizes, random_input, to_call
from retarget.transpile.corpus import compile_file, corpus_functions
from retarget.transpile.mutate import mutation_report
from retarget.transpile.verify import VerifyOptions, verify_function

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def pair_times(work: Path) -> None:
    """Per pair: *cold* assembles and links both sides inside the timing (nothing cached);
    *warm* reuses the image of a source file already loaded for another function of it, as a
    repository run does."""
    functions = corpus_functions(CORPUS)
    for target in ("aarch64", "riscv64"):
        for opt in ("-O0", "-O2"):
            cold: list[float] = []
            warm: list[float] = []
            compiled: dict[Path, tuple[str, str]] = {}
            verified = 0
            for fn in functions:
                if fn.file not in compiled:
                    compiled[fn.file] = compile_file(fn.file, target, opt, work)
                source, candidate = compiled[fn.file]
                opts = VerifyOptions(sizes=parse_sizes(fn.sizes))
                for times in (cold, warm):
                    if times is cold:
                        clear_caches()
                    t0 = time.perf_counter()
                    result = verify_function(source, candidate, fn.name, fn.prototype.render(),
                                             target, opts)  # fmt: skip
                    times.append(time.perf_counter() - t0)
                verified += result.verdict.value == "verified"
            print(f"verify {target:8} {opt}: {verified}/{len(functions)} verified; per pair "
                  f"cold {_stats(cold)}, warm {_stats(warm)}")  # fmt: skip


def _stats(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[int(0.9 * len(ordered))]
    return f"median {statistics.median(ordered) * 1000:.0f} ms / p90 {p90 * 1000:.0f} ms"


def throughput(work: Path) -> None:
    fn = next(f for f in corpus_functions(CORPUS) if f.name == "insertion_sort")
    source, _ = compile_file(fn.file, "aarch64", "-O0", work)
    program = load_program(X86_64, source, fn.name, "bench.s")
    plan = make_plan(fn.prototype)
    import random

    rng = random.Random(1)
    tests = [random_input(rng, plan) for _ in range(200)]
    for test in tests:
        test.values["n"] = 64
        test.values["a"] = [rng.randint(-1000, 1000) for _ in range(64)]
    setups = [to_call(plan, t) for t in tests]
    traced = Machine(program, trace=True)
    insns = sum(traced.run(s).insns for s in setups)
    for label, trace in (("coverage on ", True), ("coverage off", False)):
        machine = Machine(program, trace=trace)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for s in setups:
                machine.run(s)
            best = min(best, time.perf_counter() - t0)
        dt = best
        print(f"emulation {label}: {insns / dt / 1e6:.2f} M insns/s "
              f"({dt / len(setups) * 1000:.2f} ms per call, {insns // len(setups)} insns/call)")  # fmt: skip


def kill_rate(work: Path, count: int) -> None:
    every = corpus_functions(CORPUS)
    functions = every if count <= 0 else every[:: max(1, len(every) // count)][:count]
    killed = missed = equivalent = stillborn = 0
    for i, fn in enumerate(functions):
        target = ("aarch64", "riscv64")[i % 2]
        source, candidate = compile_file(fn.file, target, "-O2", work)
        report = mutation_report(source, candidate, fn.name, fn.prototype.render(), target,
                                 VerifyOptions(sizes=parse_sizes(fn.sizes)))  # fmt: skip
        killed += report.killed
        missed += len(report.missed)
        equivalent += len(report.equivalent)
        stillborn += report.stillborn
        for line in report.missed:
            print(f"  missed {fn.name} ({target}): {line}")
    rate = killed / (killed + missed) if killed + missed else 1.0
    print(f"mutation: {len(functions)} functions, {killed} killed, {missed} missed, "
          f"{equivalent} undistinguished (likely equivalent), {stillborn} did not assemble; "
          f"kill rate {rate:.3%} of distinguishable mutants")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mutation-functions", type=int, default=12,
                        help="corpus functions to mutate (0: all)")  # fmt: skip
    parser.add_argument("--only", choices=("pairs", "throughput", "mutation"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.only in (None, "pairs"):
            pair_times(work)
        if args.only in (None, "throughput"):
            throughput(work)
        if args.only in (None, "mutation"):
            kill_rate(work, args.mutation_functions)


if __name__ == "__main__":
    main()
