"""Turn one assembly file into a linked image ready to map: relocations applied by the GNU
linker at the layout's fixed addresses, external functions bound to stub slots."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from retarget.errors import FunctionNotFound, SourceError
from retarget.isa.disasm import (
    CALL_RELOCATIONS,
    FunctionBlocks,
    disassemble,
    function_blocks,
    instruction_starts,
)
from retarget.isa.elf import ElfImage, Section, Symbol, read_elf
from retarget.isa.targets import Isa
from retarget.isa.toolchain import assemble, link
from retarget.sandbox.emulator.layout import (
    EXTERN_DATA_BASE,
    EXTERN_DATA_SLOT,
    STUB_BASE,
    STUB_LIMIT,
    STUB_SLOT,
    linker_script,
)


@dataclass(frozen=True)
class GlobalVar:
    name: str
    address: int
    size: int


@dataclass(frozen=True)
class Program:
    """A linked image of one assembly file with one function singled out."""

    isa: Isa
    function: str
    entry: int
    end: int
    sections: tuple[Section, ...]
    stubs: dict[int, str]
    """Stub slot address -> external function name."""
    extern_data: dict[int, str]
    """Extern-data address -> external data symbol name."""
    blocks: FunctionBlocks
    insn_starts: tuple[int, ...]
    """Instruction starts across all of .text (for counting executed instructions)."""
    writable_globals: tuple[GlobalVar, ...]
    symbols: tuple[Symbol, ...]

    def symbolize(self, address: int) -> str | None:
        """``name+off`` for an address inside a defined data or code symbol."""
        best: Symbol | None = None
        for sym in self.symbols:
            if sym.defined and sym.name and sym.value <= address < sym.value + max(sym.size, 1):
                best = sym
        if best is None:
            return None
        off = address - best.value
        return best.name if off == 0 else f"{best.name}+{off}"


@dataclass(frozen=True)
class _Linked:
    """One assembled and linked source text: shared by every function loaded from it."""

    unit: ElfImage
    image: ElfImage
    stubs: dict[int, str]
    extern: dict[int, str]
    insn_starts: tuple[int, ...]


K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: K) -> V | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_LINKED: _Lru[tuple[str, str], _Linked] = _Lru(32)
_PROGRAMS: _Lru[tuple[str, str, str], Program] = _Lru(128)


def clear_caches() -> None:
    """Forget assembled images (benchmarks measuring cold loads use this)."""
    _LINKED.clear()
    _PROGRAMS.clear()


def load_program(isa: Isa, text: str, function: str, shown_name: str) -> Program:
    """Assemble and link ``text`` (cached by content), then locate ``function`` in it.

    Raises SourceError when the text does not assemble and FunctionNotFound when the function
    is not defined in it.
    """
    digest = hashlib.sha256(text.encode()).hexdigest()
    key = (isa.name, digest, function)
    program = _PROGRAMS.get(key)
    if program is not None:
        return program
    linked = _LINKED.get((isa.name, digest))
    if linked is None:
        linked = _build(isa, text, shown_name)
        _LINKED.put((isa.name, digest), linked)
    _require_function(linked.unit, function, shown_name)
    program = _program(isa, linked, function)
    _PROGRAMS.put(key, program)
    return program


def _build(isa: Isa, text: str, shown_name: str) -> _Linked:
    with tempfile.TemporaryDirectory(prefix="retarget-") as tmp:
        work = Path(tmp)
        obj = assemble(isa, text, work / "unit.o", shown_name)
        unit = read_elf(obj)
        stubs, extern = _bind_externals(unit, shown_name)
        defsyms = {name: addr for addr, name in stubs.items()}
        defsyms |= {name: addr for addr, name in extern.items()}
        image = read_elf(link(isa, [obj], work / "unit.elf", linker_script(), defsyms),
                         relocations=False)  # fmt: skip
    text_section = image.sections[".text"]
    starts = instruction_starts(isa, text_section.data, text_section.address)
    return _Linked(unit, image, stubs, extern, starts)


def _require_function(unit: ElfImage, function: str, shown_name: str) -> None:
    sym = unit.symbol(function)
    if sym is not None and sym.section is not None and unit.sections[sym.section].executable:
        return
    defined = sorted(s.name for s in unit.symbols if s.defined and s.kind == "STT_FUNC" and s.name)
    listing = ", ".join(defined) if defined else "none"
    raise FunctionNotFound(
        f"{shown_name}: function {function!r} is not defined there (functions: {listing})"
    )


def _bind_externals(unit: ElfImage, shown_name: str) -> tuple[dict[int, str], dict[int, str]]:
    called = {r.symbol for r in unit.relocations if r.kind in CALL_RELOCATIONS}
    stubs: dict[int, str] = {}
    extern: dict[int, str] = {}
    for name in unit.undefined():
        if name in called:
            stubs[STUB_BASE + STUB_SLOT * len(stubs)] = name
        else:
            extern[EXTERN_DATA_BASE + EXTERN_DATA_SLOT * len(extern)] = name
    if STUB_SLOT * len(stubs) > STUB_LIMIT:
        raise SourceError("too many external functions", shown_name)
    return stubs, extern


def _program(isa: Isa, built: _Linked, function: str) -> Program:
    linked = built.image
    sym = linked.symbol(function)
    assert sym is not None  # checked on the object before linking
    text = linked.sections[".text"]
    end = sym.value + sym.size if sym.size else _next_symbol(linked, sym, text)
    # Operand detail is needed for the function's own blocks; the rest of .text (callees in
    # the same file) only needs instruction boundaries for counting.
    body = text.data[sym.value - text.address : end - text.address]
    blocks = function_blocks(disassemble(isa, body, sym.value), sym.value, end)
    alloc = tuple(s for s in linked.sections.values() if s.alloc and s.size)
    return Program(
        isa=isa,
        function=function,
        entry=sym.value,
        end=end,
        sections=alloc,
        stubs=built.stubs,
        extern_data=built.extern,
        blocks=blocks,
        insn_starts=built.insn_starts,
        writable_globals=_writable_globals(linked),
        symbols=tuple(
            s
            for s in linked.symbols
            if s.defined
            and s.name
            and not s.name.startswith(("$", ".L"))
            and s.kind != "STT_SECTION"
        ),  # fmt: skip
    )


def _next_symbol(linked: ElfImage, sym: Symbol, text: Section) -> int:
    later = [
        s.value
        for s in linked.symbols
        if s.section == ".text" and s.value > sym.value and s.name and not s.name.startswith(".L")
    ]
    return min(later, default=text.address + text.size)


def _writable_globals(linked: ElfImage) -> tuple[GlobalVar, ...]:
    """Named data in writable sections; an unsized label extends to the next label."""
    out: list[GlobalVar] = []
    for sec in linked.sections.values():
        if not (sec.alloc and sec.writable and sec.size):
            continue
        syms = sorted(
            (s for s in linked.symbols
             if s.section == sec.name and s.name and s.kind in ("STT_OBJECT", "STT_NOTYPE")
             and not s.name.startswith((".L", "$"))),
            key=lambda s: s.value,
        )  # fmt: skip
        for i, s in enumerate(syms):
            size = s.size
            if not size:
                nxt = syms[i + 1].value if i + 1 < len(syms) else sec.address + sec.size
                size = nxt - s.value
            if size > 0:
                out.append(GlobalVar(s.name, s.value, size))
    return tuple(sorted(out, key=lambda g: g.name))
