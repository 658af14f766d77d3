"""Figures for the symbolic translator (prints, never asserts).

    python benchmarks/translate_bench.py [--targets aarch64,riscv64] [--opts -O0,-O2,-O3]

Per target and -O level over the corpus: share of functions translated, share verified (by
``verify_function`` against the x86-64 original), median dynamic instruction ratio of the
translation against the target compiler's own code for the same C at the same level (both
counted in the emulator over the same verification inputs), and translation time per function.
Refusal reasons are tallied so the next gap to close is visible.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from retarget.testgen.inputs import parse_sizes
from retarget.transpile.corpus import compile_file, corpus_functions
from retarget.transpile.symbolic.translate import translate_source
from retarget.transpile.verify import Verdict, VerifyOptions, verify_function

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def run(target: str, opt: str, work: Path) -> None:
    functions = corpus_functions(CORPUS)
    by_file: dict[Path, list] = {}  # type: ignore[type-arg]
    for fn in functions:
        by_file.setdefault(fn.file, []).append(fn)
    translated = verified = 0
    ratios: list[float] = []
    per_function: list[float] = []
    reasons: Counter[str] = Counter()
    for path, fns in by_file.items():
        source, native = compile_file(path, target, opt, work)
        signatures = {fn.name: fn.prototype.render() for fn in fns}
        t0 = time.perf_counter()
        result = translate_source(source, target, path.name, signatures=signatures)
        per_function.append((time.perf_counter() - t0) / len(fns))
        status = {s.name: s for s in result.functions}
        for fn in fns:
            if fn.name not in status or not status[fn.name].translated:
                reason = status[fn.name].reason if fn.name in status else "not found"
                reasons[reason.split(" in ")[0][:70]] += 1
                continue
            translated += 1
            opts = VerifyOptions(sizes=parse_sizes(fn.sizes))
            sig = fn.prototype.render()
            ours = verify_function(source, result.assembly, fn.name, sig, target, opts)
            if ours.verdict is not Verdict.VERIFIED:
                reasons[f"not verified: {ours.verdict.value}"] += 1
                continue
            verified += 1
            theirs = verify_function(source, native, fn.name, sig, target, opts)
            if theirs.candidate_insns:
                ratios.append(ours.candidate_insns / theirs.candidate_insns)
    total = len(functions)
    median = statistics.median(ratios) if ratios else float("nan")
    print(f"{target:8} {opt}: translated {translated}/{total} ({translated / total:.0%}), "
          f"verified {verified}/{total} ({verified / total:.0%}), "
          f"median dynamic insn ratio {median:.2f}, "
          f"translation {statistics.median(per_function) * 1000:.1f} ms/function")  # fmt: skip
    for reason, count in reasons.most_common(6):
        print(f"    {count:3}  {reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", default="aarch64,riscv64")
    parser.add_argument("--opts", default="-O0,-O2,-O3")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for target in args.targets.split(","):
            for opt in args.opts.split(","):
                run(target, opt, Path(tmp))


if __name__ == "__main__":
    main()
