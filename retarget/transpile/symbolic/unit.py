"""An x86-64 assembly file as the translator sees it: linked at fixed addresses with its
relocations kept, a line table back to the source, its functions and its data.

The file is assembled with ``as -g -L`` (a DWARF line table for the assembly source itself, local
labels kept as symbols) and linked with ``--emit-relocs``, so every operand that names a symbol
is known by relocation rather than guessed from a constant that happens to look like an
address.
"""

from __future__ import annotations

import bisect
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.elffile import ELFFile

from retarget.errors import FunctionNotFound
from retarget.isa import X86_64
from retarget.isa.disasm import CALL_RELOCATIONS
from retarget.isa.elf import ElfImage, Relocation, Section, Symbol, read_elf
from retarget.isa.toolchain import assemble, link
from retarget.sandbox.emulator.layout import (
    EXTERN_DATA_BASE,
    EXTERN_DATA_SLOT,
    STUB_BASE,
    STUB_SLOT,
    linker_script,
)


@dataclass(frozen=True)
class Function:
    name: str
    start: int
    end: int
    line: int | None
    exported: bool


@dataclass(frozen=True)
class Reference:
    """A relocated operand or data word: what it names, and how the value is formed."""

    at: int
    kind: str
    target: int
    """Address the reference resolves to (symbol value + addend, before any PC subtraction)."""
    symbol: str


@dataclass
class X86Unit:
    source_name: str
    image: ElfImage
    functions: tuple[Function, ...]
    lines: dict[int, int]
    externals: dict[int, str]
    """Stub or extern-data address -> the undefined symbol placed there."""
    called: frozenset[str]
    """Undefined symbols that are called (the others are data)."""
    references: dict[int, list[Reference]] = field(default_factory=dict)
    """By the address of the instruction or data word that holds them."""
    _starts: list[int] = field(default_factory=list)

    def function(self, name: str) -> Function:
        for fn in self.functions:
            if fn.name == name:
                return fn
        listing = ", ".join(f.name for f in self.functions) or "none"
        raise FunctionNotFound(
            f"{self.source_name}: function {name!r} is not defined there (functions: {listing})"
        )

    def line_of(self, address: int) -> int | None:
        """Source line of the instruction at ``address`` (the nearest row at or before it)."""
        if not self._starts:
            self._starts = sorted(self.lines)
        at = bisect.bisect_right(self._starts, address) - 1
        return self.lines[self._starts[at]] if at >= 0 else None

    def text_sections(self) -> list[Section]:
        return [s for s in self.image.sections.values() if s.alloc and s.executable and s.size]

    def data_sections(self) -> list[Section]:
        return [s for s in self.image.sections.values() if s.alloc and not s.executable and s.size]

    def symbols_at(self, address: int) -> list[Symbol]:
        return [s for s in self.image.symbols if s.defined and s.name and s.value == address]


def load_unit(text: str, shown_name: str) -> X86Unit:
    """Assemble and link x86-64 ``text``; SourceError (with the line) if it does not assemble."""
    with tempfile.TemporaryDirectory(prefix="retarget-tr-") as tmp:
        work = Path(tmp)
        obj = assemble(X86_64, text, work / "unit.o", shown_name, flags=("-g", "-L"))
        unit = read_elf(obj)
        called = frozenset(r.symbol for r in unit.relocations if r.kind in CALL_RELOCATIONS)
        externals: dict[int, str] = {}
        stubs = 0
        data = 0
        for name in unit.undefined():
            if name in called:
                externals[STUB_BASE + STUB_SLOT * stubs] = name
                stubs += 1
            else:
                externals[EXTERN_DATA_BASE + EXTERN_DATA_SLOT * data] = name
                data += 1
        defsyms = {name: addr for addr, name in externals.items()}
        linked_path = link(X86_64, [obj], work / "unit.elf", linker_script(), defsyms, True)
        image = read_elf(linked_path)
        lines = _line_table(linked_path)
    functions = _functions(image, lines)
    result = X86Unit(shown_name, image, functions, lines, externals, called & set(defsyms))
    for rel in image.relocations:
        if rel.section.startswith(".debug"):
            continue
        result.references.setdefault(rel.offset, []).append(_reference(rel))
    return result


def _reference(rel: Relocation) -> Reference:
    return Reference(rel.offset, rel.kind, rel.symbol_value + rel.addend, rel.symbol)


def _line_table(path: Path) -> dict[int, int]:
    lines: dict[int, int] = {}
    with path.open("rb") as handle:
        elf = ELFFile(handle)
        if not elf.has_dwarf_info():
            return lines
        dwarf = elf.get_dwarf_info()
        for cu in dwarf.iter_CUs():
            program = dwarf.line_program_for_CU(cu)
            if program is None:
                continue
            for entry in program.get_entries():
                state = entry.state
                if state is not None and not state.end_sequence:
                    lines.setdefault(state.address, state.line)
    return lines


def _functions(image: ElfImage, lines: dict[int, int]) -> tuple[Function, ...]:
    """Symbols of type function in executable sections; an unsized one ends at the next."""
    text = {s.name for s in image.sections.values() if s.executable}
    syms = sorted(
        (s for s in image.symbols
         if s.defined and s.name and s.section in text and s.kind == "STT_FUNC"),
        key=lambda s: s.value,
    )  # fmt: skip
    starts = sorted({s.value for s in syms})
    out: list[Function] = []
    for sym in syms:
        end = sym.value + sym.size
        if not sym.size:
            later = [a for a in starts if a > sym.value]
            section = image.sections[sym.section or ""]
            end = min(later, default=section.address + section.size)
        out.append(
            Function(sym.name, sym.value, end, lines.get(sym.value), sym.bind != "STB_LOCAL")
        )
    return tuple(out)
