"""ISAs as data: registers, calling conventions, GNU toolchains, ELF reading, disassembly."""

from retarget.isa.abi import (
    ArgLocation,
    CallingConvention,
    Scalar,
    ValueKind,
    assign_arguments,
    return_registers,
)
from retarget.isa.targets import AARCH64, ISAS, RISCV64, TARGETS, X86_64, Isa, get_isa, get_target

__all__ = [
    "AARCH64",
    "ISAS",
    "RISCV64",
    "TARGETS",
    "X86_64",
    "ArgLocation",
    "CallingConvention",
    "Isa",
    "Scalar",
    "ValueKind",
    "assign_arguments",
    "get_isa",
    "get_target",
    "return_registers",
]
