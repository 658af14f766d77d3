"""Which bits of a register a narrow x86 write must leave as x86 would.

A 32-bit x86 write clears bits 32-63 of its register; an 8- or 16-bit write keeps bits 8-63
or 16-63. A target pays instructions for either (clearing after RV64's sign-extending addw,
merging the low bits into the old value), unless nothing reads those bits: a backward
analysis over the function finds the writes after which every path overwrites them, or
ends (a return of a narrow value, a call that clobbers the register), before any read.

Liveness is kept per register and region: bits 8-15, 16-31 and 32-63 (byte offsets 1, 2
and 4 within the register).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from retarget.transpile.symbolic.analysis import FunctionFacts, gpr_base
from retarget.transpile.symbolic.lift import RAM, REG, Insn, Op

REGIONS = ((1, 2), (2, 4), (4, 8))
"""Byte ranges of a 64-bit register above its low byte."""
GPRS = tuple(o for o in range(0x00, 0x100, 8) if o != 0x20)
"""Offsets of the general registers (RSP aside: it is not a register in the ports)."""
ARGUMENTS = (0x38, 0x30, 0x10, 0x08, 0x80, 0x88)  # rdi rsi rdx rcx r8 r9
CALLER_SAVED = frozenset({0x00, 0x08, 0x10, 0x30, 0x38, 0x80, 0x88, 0x90, 0x98})
CALLEE_SAVED = frozenset({0x18, 0x28, 0xA0, 0xA8, 0xB0, 0xB8})  # rbx rbp r12-r15
RAX, RDX = 0x00, 0x10
KIND_BYTES = {"x64": 8, "x128": 8, None: 8, "s32": 4, "u32": 4, "s16": 2, "u16": 2, "s8": 1,
              "u8": 1}  # fmt: skip
"""Low bytes of a register an integer value of each kind occupies (floats: none)."""

Live = set[tuple[int, int]]
"""(register offset, region start byte) pairs whose bits some path still reads."""


def _regions(base: int, low: int, high: int) -> Live:
    """The regions of ``base`` that bytes [low, high) overlap."""
    return {(base, start) for start, end in REGIONS if start < high and low < end}


def _whole(base: int, size: int) -> Live:
    return _regions(base, 0, size)


def _covered(base: int, low: int, high: int) -> Live:
    """The regions that bytes [low, high) write entirely."""
    return {(base, start) for start, end in REGIONS if low <= start and end <= high}


def _at_return(returns: str | None) -> Live:
    live = {r for base in CALLEE_SAVED for r in _whole(base, 8)}
    live |= _whole(RAX, KIND_BYTES.get(returns, 0))
    if returns in ("x128", None):
        live |= _whole(RDX, 8)
    return live


def _at_call(kinds: list[str] | None) -> Live:
    """What a call reads: its integer arguments as wide as their kinds (all six whole
    without the callee's prototype)."""
    if kinds is None:
        return {r for base in ARGUMENTS for r in _whole(base, 8)}
    integer = [k for k in kinds if not k.startswith("f")]
    return {r for base, kind in zip(ARGUMENTS, integer, strict=False)
            for r in _whole(base, KIND_BYTES.get(kind, 8))}  # fmt: skip


@dataclass
class DeadBits:
    """Per instruction address, the registers whose narrow write needs no care."""

    upper: set[tuple[int, int]] = field(default_factory=set)
    """(address, register) of ``R = zext(R32)`` writes whose bits 32-63 nothing reads."""
    merge: set[tuple[int, int, int]] = field(default_factory=set)
    """(address, register, size) of 1/2-byte writes of a register's low bytes whose other
    bits nothing reads: the write may clobber the whole register."""


def dead_bits(
    facts: FunctionFacts,
    returns: str | None,
    call_kinds: Callable[[Op], list[str] | None],
) -> DeadBits:
    """Where narrow writes may leave the rest of their register as it comes out.
    ``call_kinds`` gives a call's parameter kinds (None when the callee is unknown)."""
    scan = _Scan(facts, returns, call_kinds)
    live_in: dict[int, frozenset[tuple[int, int]]] = {a: frozenset() for a in facts.blocks}
    changed = True
    while changed:
        changed = False
        for addr in reversed(facts.order):
            live = scan.block(addr, live_in, None)
            if live != live_in[addr]:
                live_in[addr] = live
                changed = True
    dead = DeadBits()
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
        self,
        addr: int,
        live_in: dict[int, frozenset[tuple[int, int]]],
        dead: DeadBits | None,
    ) -> frozenset[tuple[int, int]]:
        block = self.facts.blocks[addr]
        live: Live = set()
        for succ in block.succs:
            live |= live_in[succ]
        for ins in reversed(block.insns):
            live = self.instruction(ins, live, dead)
        return frozenset(live)

    def _leaves(self, op: Op) -> bool:
        """Control goes where this analysis does not look (a tail call, unknown targets)."""
        if op.code == "BRANCHIND":
            return not self.facts.indirect_targets
        if op.code == "BRANCH" and op.ins[0].space == RAM:
            return op.ins[0].offset not in self.facts.blocks
        return op.code == "CALLOTHER"

    def instruction(self, ins: Insn, live: Live, dead: DeadBits | None) -> Live:
        live = set(live)
        upper: dict[int, bool] = {}
        merge: dict[tuple[int, int], bool] = {}
        for op in reversed(ins.ops):
            if op.code == "RETURN":
                live = _at_return(self.returns)
                continue
            if op.code in ("CALL", "CALLIND"):
                kinds = self.call_kinds(op) if op.code == "CALL" else None
                live = {r for r in live if r[0] not in CALLER_SAVED} | _at_call(kinds)
                continue
            if self._leaves(op):
                live |= {r for base in GPRS for r in _whole(base, 8)}
            out = op.out
            base = None if out is None else gpr_base(out)
            if out is not None and base is not None:
                low = out.offset - base
                if _is_zext32(op, base):
                    upper[base] = upper.get(base, True) and (base, 4) not in live
                elif low == 0 and out.size in (1, 2):
                    above = {r for r in _whole(base, 8) if r[1] >= out.size}
                    key = (base, out.size)
                    merge[key] = merge.get(key, True) and not (above & live)
                live -= _covered(base, low, low + out.size)
            for v in op.ins:
                read = gpr_base(v) if v.space == REG else None
                if read is not None:
                    live |= _regions(read, v.offset - read, v.offset - read + v.size)
        if dead is not None:
            dead.upper |= {(ins.address, reg) for reg, ok in upper.items() if ok}
            dead.merge |= {(ins.address, *key) for key, ok in merge.items() if ok}
        return live


def _is_zext32(op: Op, base: int) -> bool:
    source = op.ins[0] if op.ins else None
    return (
        op.code == "INT_ZEXT"
        and op.out is not None
        and op.out.size == 8
        and source is not None
        and source.space == REG
        and source.offset == base
        and source.size == 4
    )
