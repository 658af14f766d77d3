"""Which 32-bit register writes need x86's zeroing of the upper half.

Every 32-bit x86 write clears bits 32-63 of its register. A target with 32-bit instructions
that sign-extend (RV64's addw, or any instruction sequence) must spend instructions to clear
them, unless nothing ever reads those bits: a backward analysis over the function finds the
writes after which every path overwrites the whole register, or ends (a return of a 32-bit
value, a call that clobbers it), before any read of its upper half.
"""

from __future__ import annotations

from collections.abc import Callable

from retarget.transpile.symbolic.analysis import FunctionFacts, gpr_base
from retarget.transpile.symbolic.lift import RAM, REG, Insn, Op, Var

ALL = frozenset(range(0x00, 0x100, 8)) - {0x20}
"""Offsets of the general registers (RSP aside: it is not a register in the ports)."""
ARGUMENTS = (0x38, 0x30, 0x10, 0x08, 0x80, 0x88)  # rdi rsi rdx rcx r8 r9
CALLER_SAVED = frozenset({0x00, 0x08, 0x10, 0x30, 0x38, 0x80, 0x88, 0x90, 0x98})
CALLEE_SAVED = frozenset({0x18, 0x28, 0xA0, 0xA8, 0xB0, 0xB8})  # rbx rbp r12-r15
WIDE_KINDS = {"x64", "x128", None}
RAX, RDX = 0x00, 0x10


def _upper_read(v: Var) -> int | None:
    """The register whose bits 32-63 ``v`` reads, if it does."""
    if v.space != REG or v.offset >= 0x100:
        return None
    base = v.offset & ~7
    return base if v.offset + v.size > base + 4 else None


def _whole_write(v: Var | None) -> int | None:
    if v is None or v.space != REG or v.size != 8:
        return None
    return gpr_base(v)


def _at_return(returns: str | None) -> set[int]:
    live = set(CALLEE_SAVED)
    if returns in WIDE_KINDS:
        live.add(RAX)
    if returns in ("x128", None):
        live.add(RDX)
    return live


def _at_call(kinds: list[str] | None) -> set[int]:
    """Registers whose upper halves a call reads: 64-bit arguments (all six without the
    callee's prototype) and, for what comes after, the callee-saved ones."""
    if kinds is None:
        return set(ARGUMENTS)
    integer = [k for k in kinds if not k.startswith("f")]
    return {reg for reg, kind in zip(ARGUMENTS, integer, strict=False) if kind == "x64"}


def dead_upper_halves(
    facts: FunctionFacts,
    returns: str | None,
    call_kinds: Callable[[Op], list[str] | None],
) -> set[tuple[int, int]]:
    """(instruction address, register offset) of each 32-bit write ``R = zext(R32)`` whose
    zero upper half no path reads. ``call_kinds`` gives a call's parameter kinds (None when
    the callee's prototype is unknown)."""
    scan = _Scan(facts, returns, call_kinds)
    live_in: dict[int, frozenset[int]] = {a: frozenset() for a in facts.blocks}
    changed = True
    while changed:
        changed = False
        for addr in reversed(facts.order):
            live = scan.block(addr, live_in, None)
            if live != live_in[addr]:
                live_in[addr] = live
                changed = True
    dead: set[tuple[int, int]] = set()
    for addr in facts.order:
        scan.block(addr, live_in, dead)
    return dead


class _Scan:
    def __init__(
        self,
        facts: FunctionFacts,
        returns: str | None,
        call_kinds: Callable[[Op], list[str] | None],
    ) -> None:
        self.facts = facts
        self.returns = returns
        self.call_kinds = call_kinds

    def block(
        self, addr: int, live_in: dict[int, frozenset[int]], dead: set[tuple[int, int]] | None
    ) -> frozenset[int]:
        block = self.facts.blocks[addr]
        live: set[int] = set()
        for succ in block.succs:
            live |= live_in[succ]
        for ins in reversed(block.insns):
            live = self.instruction(ins, live, dead)
        return frozenset(live)

    def instruction(self, ins: Insn, live: set[int], dead: set[tuple[int, int]] | None) -> set[int]:
        live = set(live)
        verdicts: dict[int, bool] = {}
        for op in reversed(ins.ops):
            if op.code == "RETURN":
                live = _at_return(self.returns)
                continue
            if op.code in ("CALL", "CALLIND"):
                kinds = self.call_kinds(op) if op.code == "CALL" else None
                live = (live - CALLER_SAVED) | _at_call(kinds)
                continue
            leaves = op.code == "BRANCH" and op.ins[0].space == RAM
            unknown = op.code == "BRANCHIND" and not self.facts.indirect_targets
            if (
                unknown
                or op.code == "CALLOTHER"
                or (leaves and op.ins[0].offset not in self.facts.blocks)
            ):
                # Code that is not analysed (a tail call, an unknown target) may read any
                # register.
                live |= ALL
            written = _whole_write(op.out)
            if written is not None:
                source = op.ins[0] if op.ins else None
                if (
                    op.code == "INT_ZEXT"
                    and source is not None
                    and source.space == REG
                    and source.offset == written
                    and source.size == 4
                ):
                    verdicts[written] = verdicts.get(written, True) and written not in live
                live.discard(written)
            for v in op.ins:
                read = _upper_read(v)
                if read is not None:
                    live.add(read)
        if dead is not None:
            dead |= {(ins.address, reg) for reg, ok in verdicts.items() if ok}
        return live
