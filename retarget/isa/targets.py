"""The three ISAs retarget knows, as data: names, ABI, toolchain prefix, register files."""

from __future__ import annotations

from dataclasses import dataclass

from retarget.errors import InputError
from retarget.isa.abi import AAPCS64, RISCV_LP64D, SYSV_AMD64, CallingConvention
from retarget.isa.registers import (
    AARCH64_FPRS,
    AARCH64_GPRS,
    RISCV64_FPRS,
    RISCV64_GPRS,
    X86_64_FPRS,
    X86_64_GPRS,
)


@dataclass(frozen=True)
class Isa:
    """One instruction set with its Linux ABI and GNU toolchain."""

    name: str
    cc: CallingConvention
    triple: str
    """GNU tool prefix without the trailing dash, e.g. ``aarch64-linux-gnu``."""
    gprs: tuple[str, ...]
    fprs: tuple[str, ...]
    ret_insn: bytes
    """Encoding of the plain return instruction (used in external-call stubs)."""
    elf_machine: str
    fp_reg_bits: int
    """Width of one FP/SIMD register in the emulator."""
    nan_boxed_floats: bool
    """Single-precision values in 64-bit FP registers are NaN-boxed (RISC-V)."""


X86_64 = Isa(
    name="x86_64",
    cc=SYSV_AMD64,
    triple="x86_64-linux-gnu",
    gprs=X86_64_GPRS,
    fprs=X86_64_FPRS,
    ret_insn=bytes.fromhex("c3"),
    elf_machine="EM_X86_64",
    fp_reg_bits=128,
    nan_boxed_floats=False,
)

AARCH64 = Isa(
    name="aarch64",
    cc=AAPCS64,
    triple="aarch64-linux-gnu",
    gprs=AARCH64_GPRS,
    fprs=AARCH64_FPRS,
    ret_insn=bytes.fromhex("c0035fd6"),
    elf_machine="EM_AARCH64",
    fp_reg_bits=128,
    nan_boxed_floats=False,
)

RISCV64 = Isa(
    name="riscv64",
    cc=RISCV_LP64D,
    triple="riscv64-linux-gnu",
    gprs=RISCV64_GPRS,
    fprs=RISCV64_FPRS,
    ret_insn=bytes.fromhex("67800000"),
    elf_machine="EM_RISCV",
    fp_reg_bits=64,
    nan_boxed_floats=True,
)

ISAS: dict[str, Isa] = {isa.name: isa for isa in (X86_64, AARCH64, RISCV64)}
TARGETS: tuple[str, ...] = ("aarch64", "riscv64")


def get_isa(name: str) -> Isa:
    """Look an ISA up by name; an unknown name lists the known ones."""
    try:
        return ISAS[name]
    except KeyError:
        known = ", ".join(sorted(ISAS))
        raise InputError(f"unknown ISA {name!r}; known: {known}") from None


def get_target(name: str) -> Isa:
    """A translation target (AArch64 or RISC-V); x86-64 is only ever the source."""
    if name not in TARGETS:
        raise InputError(f"unknown target {name!r}; known: {', '.join(TARGETS)}")
    return ISAS[name]
