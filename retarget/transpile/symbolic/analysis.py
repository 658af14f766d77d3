"""Whole-function facts the emitter needs: basic blocks, the stack pointer as a static offset
from its value at entry, and which flags and temporaries are ever read (dead ones are not
computed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from retarget.transpile.symbolic.lift import CONST, RAM, REG, TMP, Insn, Op, Var, register

RSP = register("RSP")
RIP = register("RIP")
FLAG_BASE = 0x200
FLAG_END = 0x210
BRANCHES = {"BRANCH", "CBRANCH", "BRANCHIND", "RETURN", "CALL", "CALLIND"}


class Refusal(Exception):
    """The function cannot be translated exactly; ``reason`` says why, ``address`` where."""

    def __init__(self, reason: str, address: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.address = address


def is_flag(v: Var) -> bool:
    return v.space == REG and FLAG_BASE <= v.offset < FLAG_END


def gpr_base(v: Var) -> int | None:
    """Offset of the 64-bit general register ``v`` lies in, if it is one."""
    if v.space != REG or v.offset >= 0x100 or v.offset + v.size > ((v.offset & ~7) + 8):
        return None
    return v.offset & ~7


@dataclass
class Block:
    start: int
    insns: list[Insn]
    succs: list[int] = field(default_factory=list)


@dataclass
class FunctionFacts:
    blocks: dict[int, Block]
    order: list[int]
    rsp_delta: dict[int, int]
    """Instruction address -> RSP minus its value at entry, before the instruction."""
    op_delta: dict[tuple[int, int], int]
    """(instruction address, op index) -> RSP minus its entry value, before that op."""
    lowest: int
    """Lowest stack offset (relative to RSP at entry) the function touches or points at."""
    dead: set[tuple[int, int]]
    """(instruction address, op index) of ops whose result is never read."""
    calls: bool
    indirect_targets: list[int]
    flags_out: dict[int, frozenset[Var]] = field(default_factory=dict)
    """Block start -> flags some successor reads before writing."""


def branch_target(op: Op) -> int | None:
    if op.code in ("BRANCH", "CBRANCH", "CALL") and op.ins[0].space == RAM:
        return op.ins[0].offset
    return None


def build_blocks(
    insns: list[Insn], ranges: list[tuple[int, int]], table_targets: list[int]
) -> FunctionFacts:
    """``ranges``: the function's own [start, end) first, then split-off parts (``f.cold``)."""
    start = ranges[0][0]

    def inside(address: int) -> bool:
        return any(lo <= address < hi for lo, hi in ranges)

    by_addr = {i.address: i for i in insns}
    leaders = {start, *(t for t in table_targets if inside(t))}
    for ins in insns:
        for op in ins.ops:
            target = branch_target(op)
            if op.code in ("BRANCH", "CBRANCH") and target is not None and inside(target):
                leaders.add(target)
            if op.code in ("BRANCH", "CBRANCH", "BRANCHIND", "RETURN"):
                leaders.add(ins.end)
    blocks: dict[int, Block] = {}
    current: Block | None = None
    for ins in insns:
        if ins.address in leaders or current is None:
            current = Block(ins.address, [])
            blocks[ins.address] = current
        current.insns.append(ins)
    for block in blocks.values():
        last = block.insns[-1]
        codes = [op.code for op in last.ops]
        falls = not any(c in ("BRANCH", "BRANCHIND", "RETURN") for c in codes)
        for op in last.ops:
            target = branch_target(op)
            if op.code in ("BRANCH", "CBRANCH") and target is not None and target in blocks:
                block.succs.append(target)
            if op.code == "CBRANCH" and op.ins[0].space == CONST:
                falls = True
        if "BRANCHIND" in codes:
            block.succs += [t for t in table_targets if t in blocks]
        if falls and last.end in by_addr:
            block.succs.append(last.end)
    main_lo, main_hi = ranges[0]
    order = sorted(a for a in blocks if main_lo <= a < main_hi)
    order += sorted(a for a in blocks if not main_lo <= a < main_hi)
    facts = FunctionFacts(blocks, order, {}, {}, 0, set(), False, table_targets)
    _stack(facts, start)
    _liveness(facts)
    return facts


# --- the stack pointer ------------------------------------------------------------------------
def _stack(facts: FunctionFacts, start: int) -> None:
    """Abstract interpretation: which values are ``entry RSP + c``. RSP must always be one."""
    entry: dict[int, dict[Var, int]] = {start: {RSP: 0}}
    work = [start]
    lowest = 0
    while work:
        addr = work.pop()
        state = dict(entry[addr])
        for ins in facts.blocks[addr].insns:
            if RSP not in state:
                raise Refusal("stack pointer not a fixed offset from its entry value", ins.address)
            facts.rsp_delta[ins.address] = state[RSP]
            lowest = min(lowest, state[RSP])
            before = state[RSP]
            for index, op in enumerate(ins.ops):
                if RSP not in state:
                    raise Refusal("stack pointer not a fixed offset from its entry value",
                                  ins.address)  # fmt: skip
                facts.op_delta[(ins.address, index)] = state[RSP]
                if op.code in ("LOAD", "STORE") and state.get(op.ins[1], -1) >= 8:
                    # Above the return address: the caller's stack arguments. Which of them
                    # the target passes in registers instead depends on the prototype.
                    raise Refusal("reads arguments passed on the x86 stack (their place in "
                                  "the target ABI needs the prototype)", ins.address)  # fmt: skip
                lowest = min(lowest, _step(op, state, ins))
                facts.calls |= op.code in ("CALL", "CALLIND")
            if any(op.code in ("CALL", "CALLIND") for op in ins.ops):
                state[RSP] = before  # the callee's return pops what the call pushed
        for succ in facts.blocks[addr].succs:
            if succ not in entry:
                entry[succ] = dict(state)
                work.append(succ)
                continue
            merged = {v: c for v, c in entry[succ].items() if state.get(v) == c}
            if entry[succ].get(RSP) != state.get(RSP):
                raise Refusal("stack depth differs between paths", succ)
            if merged != entry[succ]:
                entry[succ] = merged
                work.append(succ)
    facts.lowest = lowest


def _step(op: Op, state: dict[Var, int], ins: Insn) -> int:
    """Update the stack facts for one op; returns the lowest stack offset it reaches."""
    out = op.out
    low = 0
    value: int | None = None
    if op.code == "COPY" and op.ins[0] in state:
        value = state[op.ins[0]]
    elif op.code in ("INT_ADD", "INT_SUB") and op.ins[0] in state and op.ins[1].space == CONST:
        c = op.ins[1].offset if op.code == "INT_ADD" else -op.ins[1].offset
        c = c - (1 << 64) if c >= 1 << 63 else c
        value = state[op.ins[0]] + c
    elif op.code == "INT_ADD" and op.ins[1] in state and op.ins[0].space == CONST:
        c = op.ins[0].offset
        value = state[op.ins[1]] + (c - (1 << 64) if c >= 1 << 63 else c)
    if op.code in ("LOAD", "STORE") and op.ins[1] in state:
        low = state[op.ins[1]]
    if out is None:
        return low
    # A partial write (EBP) ends what was known about the whole register.
    for known in [v for v in state if v.space == out.space and _overlaps(v, out)]:
        del state[known]
    if value is not None and out.size == 8:
        state[out] = value
        low = min(low, value)
    elif out == RSP:
        raise Refusal("stack pointer set to a value not derived from it (alloca?)", ins.address)
    return low


def _overlaps(a: Var, b: Var) -> bool:
    return a.offset < b.offset + b.size and b.offset < a.offset + a.size


# --- liveness of flags and temporaries --------------------------------------------------------
def _reads(op: Op) -> list[Var]:
    return [v for v in op.ins if v.space in (REG, TMP)]


def _liveness(facts: FunctionFacts) -> None:
    """Backward liveness of flags across blocks, temporaries within instructions."""
    live_in: dict[int, frozenset[Var]] = {a: frozenset() for a in facts.blocks}
    changed = True
    while changed:
        changed = False
        for addr in reversed(facts.order):
            block = facts.blocks[addr]
            live: set[Var] = set()
            for succ in block.succs:
                live |= live_in[succ]
            result = _block_live(block, live, None)
            if result != live_in[addr]:
                live_in[addr] = result
                changed = True
    for addr in facts.order:
        block = facts.blocks[addr]
        live = set()
        for succ in block.succs:
            live |= live_in[succ]
        facts.flags_out[addr] = frozenset(live)
        _block_live(block, live, facts.dead)


def _block_live(block: Block, live: set[Var], dead: set[tuple[int, int]] | None) -> frozenset[Var]:
    live = set(live)
    for ins in reversed(block.insns):
        for index in range(len(ins.ops) - 1, -1, -1):
            op = ins.ops[index]
            out = op.out
            if op.code in ("CALL", "CALLIND", "RETURN"):
                live = {v for v in live if not is_flag(v)}  # callees clobber the flags
            if out is not None and (is_flag(out) or out.space == TMP) and op.code != "CALLOTHER":
                if out not in live and not _internal_branches(ins):
                    if dead is not None:
                        dead.add((ins.address, index))
                    continue
                live.discard(out)
            live |= {v for v in _reads(op) if is_flag(v) or v.space == TMP}
    return frozenset(v for v in live if is_flag(v))


def _internal_branches(ins: Insn) -> bool:
    """Instructions with branches inside their p-code are kept whole (no op is dropped)."""
    return any(op.code in ("BRANCH", "CBRANCH") and op.ins[0].space == CONST for op in ins.ops)
