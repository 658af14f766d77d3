"""x86-64 machine code to p-code through pypcode (Ghidra's SLEIGH x86-64 specification).

Each instruction becomes an ``Insn`` holding its p-code ``Op`` list with plain-data varnodes,
so nothing downstream touches pypcode objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pypcode

REG, TMP, CONST, RAM = "reg", "tmp", "const", "ram"


@dataclass(frozen=True)
class Var:
    space: str
    offset: int
    size: int

    def __str__(self) -> str:
        if self.space == CONST:
            return f"{self.offset:#x}:{self.size}"
        return f"{self.space}[{self.offset:#x}:{self.size}]"


@dataclass(frozen=True)
class Op:
    code: str
    out: Var | None
    ins: tuple[Var, ...]
    extra: str = ""
    """For CALLOTHER: the user-defined operation's name; lowering marks fused ops here."""
    disp: int = 0
    """For LOAD/STORE after lowering folded an address addition: added to the address."""
    index: Var | None = None
    """For LOAD/STORE with a folded index (targets with register-offset addressing): the
    address is ``ins[1] + disp + (index << scale)``."""
    scale: int = 0

    def __str__(self) -> str:
        head = f"{self.out} = " if self.out else ""
        return f"{head}{self.code} {', '.join(map(str, self.ins))}{self.extra}"


@dataclass(frozen=True)
class Insn:
    address: int
    size: int
    text: str
    ops: tuple[Op, ...]

    @property
    def end(self) -> int:
        return self.address + self.size


@cache
def _context() -> pypcode.Context:
    return pypcode.Context("x86:LE:64:default")


def register_name(offset: int, size: int) -> str:
    ctx = _context()
    space = ctx.registers["RAX"].space
    return str(ctx.getRegisterName(space, offset, size)) or f"reg{offset:#x}"


def register(name: str) -> Var:
    vn = _context().registers[name]
    return Var(REG, int(vn.offset), int(vn.size))


def _var(vn: pypcode.Varnode) -> Var:
    name = vn.space.name
    space = {"register": REG, "unique": TMP, "const": CONST, "ram": RAM}.get(name, name)
    return Var(space, int(vn.offset), int(vn.size))


def lift(code: bytes, address: int) -> list[Insn]:
    """Every instruction of ``code`` (placed at ``address``) with its p-code."""
    ctx = _context()
    out: list[Insn] = []
    texts = {
        int(ins.addr.offset): f"{ins.mnem} {ins.body}".strip()
        for ins in ctx.disassemble(code, address).instructions
    }
    translation = ctx.translate(code, address)
    current: list[Op] = []
    start = size = -1
    for raw in translation.ops:
        if raw.opcode == pypcode.OpCode.IMARK:
            if start >= 0:
                out.append(Insn(start, size, texts.get(start, "?"), tuple(current)))
            mark = raw.inputs[0]
            start, size, current = int(mark.offset), int(mark.size), []
            continue
        extra = ""
        if raw.opcode == pypcode.OpCode.CALLOTHER:
            extra = f" ({raw.inputs[0].getUserDefinedOpName()})"
        current.append(
            Op(
                str(raw.opcode.name),  # type: ignore[attr-defined]
                None if raw.output is None else _var(raw.output),
                tuple(_var(v) for v in raw.inputs),
                extra,
            )
        )
    if start >= 0:
        out.append(Insn(start, size, texts.get(start, "?"), tuple(current)))
    return out
