"""Register files of the three ISAs, by name (the emulator maps names to engine ids)."""

from __future__ import annotations

X86_64_GPRS: tuple[str, ...] = (
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
)  # fmt: skip
X86_64_FPRS: tuple[str, ...] = tuple(f"xmm{i}" for i in range(16))

AARCH64_GPRS: tuple[str, ...] = (*(f"x{i}" for i in range(31)), "sp")
AARCH64_FPRS: tuple[str, ...] = tuple(f"v{i}" for i in range(32))

RISCV64_ABI_NAMES: tuple[str, ...] = (
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1",
    "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
    "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
    "t3", "t4", "t5", "t6",
)  # fmt: skip
RISCV64_GPRS: tuple[str, ...] = RISCV64_ABI_NAMES[1:]
RISCV64_FPRS: tuple[str, ...] = (
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1",
    "fa0", "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7",
    "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11",
    "ft8", "ft9", "ft10", "ft11",
)  # fmt: skip
