"""Mechanical mutants of target assembly, to measure how sound the verifier is.

A mutant the verifier accepts is either equivalent to the original or a hole in test
generation; ``mutation_report`` tells them apart with a much larger random check and lists
both, so nothing is hidden.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from retarget.transpile.verify import Verdict, VerifyOptions, verify_function

_FLIPS = {
    "aarch64": {"b.eq": "b.ne", "b.lt": "b.ge", "b.gt": "b.le", "b.lo": "b.hs", "b.hi": "b.ls",
                "b.mi": "b.pl", "b.cc": "b.cs", "cbz": "cbnz", "tbz": "tbnz"},
    "riscv64": {"beq": "bne", "blt": "bge", "bltu": "bgeu", "bgt": "ble", "bgtu": "bleu",
                "beqz": "bnez", "blez": "bgtz", "bltz": "bgez"},
}  # fmt: skip
_SWAPS = {
    "aarch64": {"add": "sub", "and": "orr", "eor": "orr", "mul": "add", "lsl": "lsr",
                "asr": "lsr", "csel": "csinc", "adds": "subs"},
    "riscv64": {"add": "sub", "addw": "subw", "and": "or", "xor": "or", "mul": "add",
                "sll": "srl", "sra": "srl", "mulw": "addw", "slt": "sltu"},
}  # fmt: skip
_INSN = re.compile(r"^(\s+)([a-z][\w.]*)(\s+)(.*)$")
_IMM = re.compile(r"(?<![\w.])(#?)(-?\d+)\b(?!\()")
_REG = re.compile(r"\b([xw]\d+|[as]\d+|t\d|zero|sp|ra|fa?\d+)\b")


@dataclass(frozen=True)
class Mutant:
    kind: str
    line: int
    before: str
    after: str
    text: str


def mutants(asm: str, function: str, target: str) -> Iterator[Mutant]:
    """Single-line mutants inside ``function``'s body."""
    lines = asm.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip() == f"{function}:"), None)
    if start is None:
        return
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].strip().startswith(f".size\t{function}")
                or lines[i].strip().startswith(f".size {function}")), len(lines))  # fmt: skip
    for i in range(start + 1, end):
        match = _INSN.match(lines[i])
        if not match or match.group(2).startswith("."):
            continue
        for kind, new in _line_mutants(target, match):
            if new != lines[i]:
                text = "\n".join([*lines[:i], new, *lines[i + 1 :]]) + "\n"
                yield Mutant(kind, i + 1, lines[i].strip(), new.strip(), text)


def _line_mutants(target: str, m: re.Match[str]) -> Iterator[tuple[str, str]]:
    indent, op, space, args = m.groups()
    flips = _FLIPS[target] | {v: k for k, v in _FLIPS[target].items()}
    if op in flips:
        yield "flip-branch", f"{indent}{flips[op]}{space}{args}"
    swaps = _SWAPS[target]
    if op in swaps:
        yield "swap-op", f"{indent}{swaps[op]}{space}{args}"
    imm = _IMM.search(args)
    if imm and not op.startswith(("b", "j", "c")) and op not in ("ret", "call", "tail"):
        bumped = f"{imm.group(1)}{int(imm.group(2)) + 1}"
        yield "change-imm", f"{indent}{op}{space}{args[: imm.start()]}{bumped}{args[imm.end() :]}"
    if op not in ("ret",):
        yield "delete", f"{indent}nop"
    regs = _REG.findall(args)
    if len(regs) >= 2 and regs[0] != regs[1]:
        a, b = regs[0], regs[1]
        swapped = _REG.sub(lambda r: b if r.group(1) == a else a if r.group(1) == b else r.group(1),
                           args, count=2)  # fmt: skip
        yield "swap-regs", f"{indent}{op}{space}{swapped}"


@dataclass
class MutationReport:
    function: str
    total: int = 0
    stillborn: int = 0
    """Mutants that do not assemble (not counted)."""
    killed: int = 0
    missed: list[str] = field(default_factory=list)
    """Mutants the verifier accepted but a far larger random check tells apart."""
    equivalent: list[str] = field(default_factory=list)
    """Mutants no generated test distinguishes (likely equivalent)."""

    @property
    def kill_rate(self) -> float:
        distinguishable = self.killed + len(self.missed)
        return self.killed / distinguishable if distinguishable else 1.0


def mutation_report(
    source: str,
    candidate: str,
    function: str,
    signature: str,
    target: str,
    options: VerifyOptions | None = None,
    extended_tests: int = 1500,
) -> MutationReport:
    opts = options or VerifyOptions()
    report = MutationReport(function)
    for mutant in mutants(candidate, function, target):
        report.total += 1
        result = verify_function(source, mutant.text, function, signature, target, opts)
        shown = f"line {mutant.line} {mutant.kind}: {mutant.before!r} -> {mutant.after!r}"
        if result.verdict is Verdict.ERROR:
            report.stillborn += 1
        elif result.verdict is not Verdict.VERIFIED:
            report.killed += 1
        else:
            deep = VerifyOptions(seed=opts.seed + 7919, sizes=opts.sizes,
                                 hidden_tests=extended_tests)  # fmt: skip
            check = verify_function(source, mutant.text, function, signature, target, deep)
            (report.missed if check.verdict is Verdict.MISMATCH else report.equivalent).append(
                shown
            )
    return report
