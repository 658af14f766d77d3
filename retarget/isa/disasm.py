"""Disassembly with capstone and static basic blocks of one function."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import capstone

from retarget.isa.targets import Isa

CALL_RELOCATIONS = frozenset(
    {
        "R_X86_64_PLT32",
        "R_AARCH64_CALL26",
        "R_AARCH64_JUMP26",
        "R_RISCV_CALL",
        "R_RISCV_CALL_PLT",
    }
)
"""Relocation kinds that mean "this symbol is called or tail-called"."""

_FLOW_GROUPS = (capstone.CS_GRP_JUMP, capstone.CS_GRP_CALL, capstone.CS_GRP_RET,
                capstone.CS_GRP_IRET, capstone.CS_GRP_BRANCH_RELATIVE)  # fmt: skip


@dataclass(frozen=True)
class Insn:
    address: int
    size: int
    mnemonic: str
    op_str: str
    ends_block: bool
    target: int | None
    """Direct branch or call target, when the instruction has one."""
    imms: tuple[int, ...] = ()

    @property
    def is_nop(self) -> bool:
        return self.mnemonic.startswith(("nop", "c.nop", "data16")) or (
            self.mnemonic == "xchg" and self.op_str == "ax, ax"
        )


@cache
def _engine(isa_name: str) -> capstone.Cs:
    arch, mode = {
        "x86_64": (capstone.CS_ARCH_X86, capstone.CS_MODE_64),
        "aarch64": (capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM),
        "riscv64": (capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV64 | capstone.CS_MODE_RISCVC),
    }[isa_name]
    engine = capstone.Cs(arch, mode)
    engine.detail = True
    return engine


def disassemble(isa: Isa, code: bytes, address: int) -> list[Insn]:
    """Linear sweep; stops at the first byte sequence that does not decode."""
    out: list[Insn] = []
    for ins in _engine(isa.name).disasm(code, address):
        groups = set(ins.groups)
        flow = any(g in groups for g in _FLOW_GROUPS) or _is_flow_by_name(isa, ins.mnemonic)
        imms = tuple(int(op.imm) for op in ins.operands if op.type == capstone.CS_OP_IMM)
        if ins.mnemonic == "lea":
            # x86 does arithmetic with lea: ``lea -48(%rax), %edx`` subtracts '0'.
            imms += tuple(int(op.mem.disp) for op in ins.operands
                          if op.type == capstone.CS_OP_MEM and op.mem.disp)  # fmt: skip
        out.append(
            Insn(ins.address, ins.size, ins.mnemonic, ins.op_str, flow, _direct_target(ins), imms)
        )
    return out


def instruction_starts(isa: Isa, code: bytes, address: int) -> tuple[int, ...]:
    """Addresses of every instruction of a linear sweep (no operand detail: fast)."""
    return tuple(ins[0] for ins in _engine(isa.name).disasm_lite(code, address))


def _is_flow_by_name(isa: Isa, mnemonic: str) -> bool:
    # capstone 5 leaves some RISC-V compressed branches and traps without groups.
    if isa.name == "riscv64":
        return mnemonic.startswith(("b", "c.b", "j", "c.j", "ret", "ebreak", "c.ebreak"))
    return mnemonic in {"ud2", "hlt", "int3", "brk", "udf"}


def _direct_target(ins: capstone.CsInsn) -> int | None:
    imms = [op.imm for op in ins.operands if op.type == capstone.CS_OP_IMM]
    groups = set(ins.groups)
    if imms and (capstone.CS_GRP_JUMP in groups or capstone.CS_GRP_CALL in groups
                 or capstone.CS_GRP_BRANCH_RELATIVE in groups):  # fmt: skip
        return int(imms[-1])
    return None


@dataclass(frozen=True)
class FunctionBlocks:
    """Static basic blocks of one function: sorted leader addresses and instruction starts."""

    start: int
    end: int
    leaders: tuple[int, ...]
    insn_starts: tuple[int, ...]
    constants: tuple[int, ...] = ()
    """Immediates the function compares or computes with: a dictionary for input search."""

    def block_of(self, address: int) -> int | None:
        """Leader of the block containing ``address``, or None outside the function."""
        if not self.start <= address < self.end:
            return None
        return self.leaders[bisect.bisect_right(self.leaders, address) - 1]

    def blocks_in(self, address: int, size: int) -> list[int]:
        """Leaders of every block an executed range [address, address+size) touches."""
        first = self.block_of(address)
        if first is None:
            return []
        lo = bisect.bisect_right(self.leaders, address)
        hi = bisect.bisect_left(self.leaders, address + size)
        return [first, *self.leaders[lo:hi]]


def function_blocks(insns: list[Insn], start: int, end: int) -> FunctionBlocks:
    """Leaders: the entry, every direct target inside the function, every instruction after a
    control transfer."""
    inside = [i for i in insns if start <= i.address < end]
    leaders = {start}
    for ins in inside:
        if ins.ends_block:
            leaders.add(ins.address + ins.size)
            if ins.target is not None and start <= ins.target < end:
                leaders.add(ins.target)
    kept = sorted(a for a in leaders if start <= a < end)
    # Alignment padding after a return or jump is a "block" no execution can reach.
    by_leader: dict[int, list[Insn]] = {a: [] for a in kept}
    for ins in inside:
        by_leader[kept[bisect.bisect_right(kept, ins.address) - 1]].append(ins)
    real = tuple(a for a in kept if a == start or not all(i.is_nop for i in by_leader[a]))
    constants = sorted({imm for i in inside if not i.ends_block for imm in i.imms})
    return FunctionBlocks(start, end, real, tuple(i.address for i in inside), tuple(constants))


def count_insns(starts: Sequence[int], address: int, size: int) -> int:
    """Instructions whose first byte lies in [address, address+size)."""
    return bisect.bisect_left(starts, address + size) - bisect.bisect_left(starts, address)
