"""What one emulated call produced: how it ended and everything a caller can observe."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from retarget.isa.abi import Scalar


class EndKind(StrEnum):
    RETURNED = "returned"
    FAULT = "fault"
    TRAP = "trap"
    BUDGET = "budget"
    TIMEOUT = "timeout"
    SYSCALL = "syscall"
    UNMODELLED = "unmodelled"
    """Called an external function retarget has no model for: the run proves nothing."""
    EXTERN_DATA = "extern-data"
    """Touched an external data symbol: its contents are unknown, the run proves nothing."""


@dataclass(frozen=True)
class RunEnd:
    kind: EndKind
    detail: str = ""
    where: str | None = None
    """For a fault: the accessed address, symbolised (``a+64``, ``heap[0]+8``, ``stack``)."""
    access: str | None = None
    symbol: str | None = None


@dataclass(frozen=True)
class ArgValue:
    """One argument: its ABI scalar and its bits (two's complement ints, IEEE bits for FP)."""

    scalar: Scalar
    bits: int


@dataclass(frozen=True)
class BufferInit:
    """An argument buffer: its bytes, alignment and a name used in messages."""

    name: str
    data: bytes
    align: int = 8


@dataclass(frozen=True)
class CallSetup:
    args: tuple[ArgValue, ...]
    returns: Scalar | None
    buffers: tuple[BufferInit, ...] = ()
    returns_pointer: bool = False
    """The result is an address: compare it by what it points at (``RunOutcome.return_target``)."""


@dataclass(frozen=True)
class ExternalCall:
    name: str
    args: tuple[str, ...]
    result: str
    observable: bool = True

    def render(self) -> str:
        shown = f"{self.name}({', '.join(self.args)})"
        return f"{shown} = {self.result}" if self.result else shown


@dataclass
class RunOutcome:
    end: RunEnd
    return_bits: int | None = None
    """The declared-width return value's bits (None for void or when the run did not return)."""
    return_target: str | None = None
    """For a pointer result: the symbolic target (``s+3``, ``heap[0]``, ``"tue"``, ``NULL``)."""
    abi_violations: list[str] = field(default_factory=list)
    """Broken ABI promises: clobbered callee-saved registers, sp, un-extended returns."""
    buffers: list[bytes] = field(default_factory=list)
    globals: dict[str, bytes] = field(default_factory=dict)
    heap: list[tuple[int, bytes]] = field(default_factory=list)
    calls: list[ExternalCall] = field(default_factory=list)
    insns: int = 0
    blocks: frozenset[int] = frozenset()
    edges: frozenset[tuple[int, int]] = frozenset()
