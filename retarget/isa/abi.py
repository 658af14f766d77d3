"""Calling conventions as data: SysV AMD64, AAPCS64 (Linux) and RISC-V LP64D.

Everything the emulator and the verifier need to call a function and to judge what it left
behind comes from these tables; no code branches on the architecture name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ValueKind(StrEnum):
    """How a scalar travels through a call: in integer or in floating-point registers."""

    INT = "int"
    FP = "fp"


@dataclass(frozen=True)
class Scalar:
    """A scalar value as the ABI sees it: kind, width in bits and signedness."""

    kind: ValueKind
    bits: int
    signed: bool = True

    @property
    def size(self) -> int:
        return self.bits // 8


class NarrowIntRule(StrEnum):
    """What the ABI promises about register bits above a narrow integer's width."""

    UNSPECIFIED = "unspecified"
    """x86-64 and AAPCS64: the upper bits are garbage (the emulator poisons them)."""
    SIGN_EXTEND_32 = "sign-extend-32"
    """RV64: extend to 32 bits by the type's signedness, then sign-extend to 64 bits."""


@dataclass(frozen=True)
class CallingConvention:
    """One procedure-call standard. Register names are lower-case ISA names."""

    name: str
    int_args: tuple[str, ...]
    fp_args: tuple[str, ...]
    int_ret: tuple[str, ...]
    fp_ret: tuple[str, ...]
    callee_saved: tuple[str, ...]
    callee_saved_fp: tuple[str, ...]
    """FP registers whose low 64 bits a callee must preserve."""
    stack_pointer: str
    return_address: str | None
    """Register holding the return address, or None when ``call`` pushes it on the stack."""
    stack_align: int
    entry_sp_mod: int
    """sp modulo ``stack_align`` at the first instruction (x86-64: 8, the pushed return)."""
    red_zone: int
    stack_slot: int
    narrow_ints: NarrowIntRule
    fp_spill_to_int: bool
    """FP arguments beyond the FP registers go to free integer registers (RISC-V)."""
    int128_even_pair: bool
    """A 128-bit integer argument starts at an even register (AAPCS64 rule C.8)."""
    int128_split: bool
    """A 128-bit argument may be split between the last register and the stack (RISC-V)."""

    @property
    def preserved(self) -> tuple[str, ...]:
        return (*self.callee_saved, self.stack_pointer)


SYSV_AMD64 = CallingConvention(
    name="sysv-amd64",
    int_args=("rdi", "rsi", "rdx", "rcx", "r8", "r9"),
    fp_args=tuple(f"xmm{i}" for i in range(8)),
    int_ret=("rax", "rdx"),
    fp_ret=("xmm0", "xmm1"),
    callee_saved=("rbx", "rbp", "r12", "r13", "r14", "r15"),
    callee_saved_fp=(),
    stack_pointer="rsp",
    return_address=None,
    stack_align=16,
    entry_sp_mod=8,
    red_zone=128,
    stack_slot=8,
    narrow_ints=NarrowIntRule.UNSPECIFIED,
    fp_spill_to_int=False,
    int128_even_pair=False,
    int128_split=False,
)

AAPCS64 = CallingConvention(
    name="aapcs64",
    int_args=tuple(f"x{i}" for i in range(8)),
    fp_args=tuple(f"v{i}" for i in range(8)),
    int_ret=("x0", "x1"),
    fp_ret=("v0", "v1"),
    callee_saved=tuple(f"x{i}" for i in range(19, 30)),
    callee_saved_fp=tuple(f"v{i}" for i in range(8, 16)),
    stack_pointer="sp",
    return_address="x30",
    stack_align=16,
    entry_sp_mod=0,
    red_zone=0,
    stack_slot=8,
    narrow_ints=NarrowIntRule.UNSPECIFIED,
    fp_spill_to_int=False,
    int128_even_pair=True,
    int128_split=False,
)

RISCV_LP64D = CallingConvention(
    name="lp64d",
    int_args=tuple(f"a{i}" for i in range(8)),
    fp_args=tuple(f"fa{i}" for i in range(8)),
    int_ret=("a0", "a1"),
    fp_ret=("fa0", "fa1"),
    callee_saved=tuple(f"s{i}" for i in range(12)),
    callee_saved_fp=tuple(f"fs{i}" for i in range(12)),
    stack_pointer="sp",
    return_address="ra",
    stack_align=16,
    entry_sp_mod=0,
    red_zone=0,
    stack_slot=8,
    narrow_ints=NarrowIntRule.SIGN_EXTEND_32,
    fp_spill_to_int=True,
    int128_even_pair=False,
    int128_split=True,
)


@dataclass(frozen=True)
class ArgLocation:
    """Where one argument lives: registers (low part first) and/or stack byte offsets.

    Stack offsets are relative to the stack pointer at the call (before x86's pushed return
    address), so a function reads slot k at ``sp + k`` on AArch64/RISC-V and at ``rsp + 8 + k``
    on x86-64.
    """

    registers: tuple[str, ...] = ()
    stack_offsets: tuple[int, ...] = ()


def assign_arguments(cc: CallingConvention, params: list[Scalar]) -> list[ArgLocation]:
    """Place each parameter per ``cc``; non-variadic calls only."""
    next_int = 0
    next_fp = 0
    stack = 0
    out: list[ArgLocation] = []

    def take_stack(slots: int, align: int) -> tuple[int, ...]:
        nonlocal stack
        stack = -(-stack // align) * align
        offsets = tuple(stack + cc.stack_slot * i for i in range(slots))
        stack += cc.stack_slot * slots
        return offsets

    for param in params:
        if param.kind is ValueKind.FP and next_fp < len(cc.fp_args):
            out.append(ArgLocation(registers=(cc.fp_args[next_fp],)))
            next_fp += 1
            continue
        if param.kind is ValueKind.FP and not cc.fp_spill_to_int:
            out.append(ArgLocation(stack_offsets=take_stack(1, cc.stack_slot)))
            continue
        slots = 2 if param.bits == 128 else 1
        if slots == 2 and cc.int128_even_pair and next_int % 2:
            next_int += 1
        free = len(cc.int_args) - next_int
        if free >= slots:
            out.append(ArgLocation(registers=cc.int_args[next_int : next_int + slots]))
            next_int += slots
        elif slots == 2 and free == 1 and cc.int128_split:
            out.append(
                ArgLocation(registers=(cc.int_args[next_int],), stack_offsets=take_stack(1, 8))
            )
            next_int += 1
        else:
            next_int = len(cc.int_args)
            align = 16 if slots == 2 else cc.stack_slot
            out.append(ArgLocation(stack_offsets=take_stack(slots, align)))
    return out


def return_registers(cc: CallingConvention, value: Scalar) -> tuple[str, ...]:
    """Registers holding a returned scalar, low part first."""
    if value.kind is ValueKind.FP:
        return cc.fp_ret[:1]
    return cc.int_ret[: 2 if value.bits == 128 else 1]


def extend_narrow(cc: CallingConvention, value: Scalar, raw: int) -> int | None:
    """The 64-bit register image the ABI *requires* for a narrow integer, or None when the upper
    bits are unspecified (so a caller may put anything there)."""
    if value.kind is ValueKind.FP or value.bits >= 64:
        return None
    if cc.narrow_ints is NarrowIntRule.UNSPECIFIED:
        return None
    mask = (1 << value.bits) - 1
    raw &= mask
    if value.signed and raw >> (value.bits - 1):
        raw -= 1 << value.bits
    as32 = raw & 0xFFFF_FFFF
    if as32 >> 31:
        as32 -= 1 << 32
    return as32 & 0xFFFF_FFFF_FFFF_FFFF
