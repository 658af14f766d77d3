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
from retarget.testgen.inputs import make_plan, parse_sizes, random_input, to_call
from retarget.transpile.corpus import compile_file, corpus_functions
from retarget.transpile.mutate import mutation_report
from retarget.transpile.verify import VerifyOptions, verify_function

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def pair_times(work: Path) -> None:
    functions = corpus_functions(CORPUS)
    for target in ("aarch64", "riscv64"):
        for opt in ("-O0", "-O2"):
            times: list[float] = []
            compiled: dict[Path, tuple[str, str]] = {}
            verified = 0
            for fn in functions:
                if fn.file not in compiled:
                    compiled[fn.file] = compile_file(fn.file, target, opt, work)
                source, candidate = compiled[fn.file]
                opts = VerifyOptions(sizes=parse_sizes(fn.sizes))
                t0 = time.perf_counter()
                result = verify_function(source, candidate, fn.name, fn.prototype.render(),
                                         target, opts)  # fmt: skip
                times.append(time.perf_counter() - t0)
                verified += result.verdict.value == "verified"
            times.sort()
            print(f"verify {target:8} {opt}: {verified}/{len(functions)} verified, "
                  f"median {statistics.median(times) * 1000:.0f} ms, "
                  f"p90 {times[int(0.9 * len(times))] * 1000:.0f} ms per pair")  # fmt: skip


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
        t0 = time.perf_counter()
        for s in setups:
            machine.run(s)
        dt = time.perf_counter() - t0
        print(f"emulation {label}: {insns / dt / 1e6:.2f} M insns/s "
              f"({dt / len(setups) * 1000:.2f} ms per call, {insns // len(setups)} insns/call)")  # fmt: skip


def kill_rate(work: Path, count: int) -> None:
    functions = corpus_functions(CORPUS)[:: max(1, len(corpus_functions(CORPUS)) // count)][:count]
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
    parser.add_argument("--mutation-functions", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pair_times(work)
        throughput(work)
        kill_rate(work, args.mutation_functions)


if __name__ == "__main__":
    main()
