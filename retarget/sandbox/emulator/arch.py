"""Per-ISA engine facts for Unicorn: register ids, CPU set-up, trap numbers.

Kept beside the emulator (not in ``retarget.isa``) because only this package talks to Unicorn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from unicorn import arm64_const as a64
from unicorn import riscv_const as rv
from unicorn import unicorn_const as unicorn
from unicorn import x86_const as x86
from unicorn.unicorn_py3.unicorn import Uc

from retarget.isa.targets import Isa
from retarget.sandbox.emulator.layout import TLS_BASE


@dataclass(frozen=True)
class EngineArch:
    arch: int
    mode: int
    regs: dict[str, int]
    pc: int
    setup: Callable[[Uc], None]
    traps: dict[int, str]
    """Interrupt numbers the engine reports, with what a Linux process would receive."""
    syscall_intnos: frozenset[int]


def _x86_regs() -> dict[str, int]:
    names = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
             *(f"r{i}" for i in range(8, 16)))  # fmt: skip
    regs = {n: getattr(x86, f"UC_X86_REG_{n.upper()}") for n in names}
    regs |= {f"xmm{i}": getattr(x86, f"UC_X86_REG_XMM{i}") for i in range(16)}
    return regs


def _a64_regs() -> dict[str, int]:
    regs = {f"x{i}": getattr(a64, f"UC_ARM64_REG_X{i}") for i in range(29)}
    regs |= {"x29": a64.UC_ARM64_REG_X29, "x30": a64.UC_ARM64_REG_X30, "sp": a64.UC_ARM64_REG_SP}
    regs |= {f"v{i}": getattr(a64, f"UC_ARM64_REG_Q{i}") for i in range(32)}
    return regs


def _rv_regs(isa: Isa) -> dict[str, int]:
    names = (*isa.gprs, *isa.fprs)
    return {n: getattr(rv, f"UC_RISCV_REG_{n.upper()}") for n in names}


def _x86_setup(uc: Uc) -> None:
    uc.reg_write(x86.UC_X86_REG_FS_BASE, TLS_BASE)
    uc.reg_write(x86.UC_X86_REG_MXCSR, 0x1F80)


def _a64_setup(uc: Uc) -> None:
    # FP/SIMD instructions trap until CPACR_EL1.FPEN (bits 20-21) allows them.
    uc.reg_write(a64.UC_ARM64_REG_CPACR_EL1, 0x300000)
    uc.reg_write(a64.UC_ARM64_REG_TPIDR_EL0, TLS_BASE)


def _rv_setup(uc: Uc) -> None:
    # F/D instructions are illegal until mstatus.FS is non-zero.
    uc.reg_write(rv.UC_RISCV_REG_MSTATUS, 0x6000)
    uc.reg_write(rv.UC_RISCV_REG_TP, TLS_BASE)


def engine_arch(isa: Isa) -> EngineArch:
    if isa.name == "x86_64":
        return EngineArch(
            unicorn.UC_ARCH_X86, unicorn.UC_MODE_64, _x86_regs(), x86.UC_X86_REG_RIP,
            _x86_setup,
            {0: "divide error (SIGFPE)", 1: "debug trap (SIGTRAP)", 3: "breakpoint (SIGTRAP)",
             4: "overflow (SIGSEGV)", 5: "bound range (SIGSEGV)", 6: "invalid opcode (SIGILL)",
             13: "general protection (SIGSEGV)", 17: "alignment check (SIGBUS)"},
            frozenset({0x80}),
        )  # fmt: skip
    if isa.name == "aarch64":
        return EngineArch(
            unicorn.UC_ARCH_ARM64, unicorn.UC_MODE_ARM, _a64_regs(), a64.UC_ARM64_REG_PC,
            _a64_setup,
            {1: "undefined instruction (SIGILL)", 7: "breakpoint (SIGTRAP)"},
            frozenset({2}),
        )  # fmt: skip
    return EngineArch(
        unicorn.UC_ARCH_RISCV, unicorn.UC_MODE_RISCV64, _rv_regs(isa), rv.UC_RISCV_REG_PC,
        _rv_setup,
        {0: "misaligned fetch (SIGBUS)", 2: "illegal instruction (SIGILL)",
         3: "breakpoint (SIGTRAP)", 4: "misaligned load (SIGBUS)", 6: "misaligned store (SIGBUS)"},
        frozenset({8, 9, 11}),
    )  # fmt: skip
