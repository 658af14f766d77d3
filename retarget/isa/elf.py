"""ELF reading with pyelftools: symbols, sections and relocations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elftools.elf.descriptions import describe_reloc_type
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int
    size: int
    kind: str
    """STT_FUNC, STT_OBJECT, STT_NOTYPE, ..."""
    bind: str
    section: str | None
    """Name of the defining section; None when undefined or absolute."""

    undefined_ref: bool = False
    """True for a reference to a symbol defined elsewhere (SHN_UNDEF)."""

    @property
    def defined(self) -> bool:
        return self.section is not None


@dataclass(frozen=True)
class Section:
    name: str
    address: int
    size: int
    flags: int
    kind: str
    data: bytes

    @property
    def alloc(self) -> bool:
        return bool(self.flags & 0x2)

    @property
    def writable(self) -> bool:
        return bool(self.flags & 0x1)

    @property
    def executable(self) -> bool:
        return bool(self.flags & 0x4)


@dataclass(frozen=True)
class Relocation:
    section: str
    offset: int
    kind: str
    symbol: str
    addend: int = 0
    symbol_value: int = 0
    """The symbol's value in this file (its address once linked)."""


@dataclass(frozen=True)
class ElfImage:
    """What retarget needs from one ELF file, read once."""

    machine: str
    sections: dict[str, Section]
    symbols: list[Symbol]
    relocations: list[Relocation] = field(default_factory=list)

    def symbol(self, name: str) -> Symbol | None:
        for sym in self.symbols:
            if sym.name == name and sym.defined:
                return sym
        return None

    def undefined(self) -> list[str]:
        return sorted(
            {s.name for s in self.symbols if s.undefined_ref and s.name and s.kind != "STT_FILE"}
        )


def read_elf(path: Path, relocations: bool = True) -> ElfImage:
    """Sections, symbols and (unless ``relocations`` is False) relocations of an ELF file."""
    with path.open("rb") as handle:
        elf = ELFFile(handle)
        all_sections = list(elf.iter_sections())  # pyelftools re-parses on every iteration
        section_names = [s.name for s in all_sections]
        sections = {
            s.name: Section(
                name=s.name,
                address=s["sh_addr"],
                size=s["sh_size"],
                flags=s["sh_flags"],
                kind=s["sh_type"],
                data=b"" if s["sh_type"] == "SHT_NOBITS" else s.data(),
            )
            for s in all_sections
            if s.name
        }
        raw_symbols: dict[int, list[Any]] = {
            index: list(sec.iter_symbols())
            for index, sec in enumerate(all_sections)
            if isinstance(sec, SymbolTableSection)
        }
        symbols = [
            _symbol(sym, section_names)
            for index, sec in enumerate(all_sections)
            if sec.name == ".symtab"
            for sym in raw_symbols[index]
        ]
        relocs: list[Relocation] = []
        for sec in all_sections if relocations else ():
            if not isinstance(sec, RelocationSection):
                continue
            table = raw_symbols.get(sec["sh_link"], [])
            target = section_names[sec["sh_info"]] if sec["sh_info"] else ""
            for rel in sec.iter_relocations():
                sym = table[rel["r_info_sym"]]
                shndx = sym["st_shndx"]
                name = sym.name or (section_names[shndx] if isinstance(shndx, int) else "")
                kind = _reloc_name(rel["r_info_type"], elf)
                addend = rel["r_addend"] if rel.is_RELA() else 0
                relocs.append(
                    Relocation(target, rel["r_offset"], kind, name, addend, sym["st_value"])
                )
        return ElfImage(elf["e_machine"], sections, symbols, relocs)


# pyelftools 0.33 has no names for RISC-V relocations; these are the ones retarget looks at
# (numbers from the RISC-V ELF psABI).
_RISCV_RELOCATIONS = {
    1: "R_RISCV_32", 2: "R_RISCV_64", 16: "R_RISCV_BRANCH", 17: "R_RISCV_JAL",
    18: "R_RISCV_CALL", 19: "R_RISCV_CALL_PLT", 20: "R_RISCV_GOT_HI20",
    23: "R_RISCV_PCREL_HI20", 24: "R_RISCV_PCREL_LO12_I", 25: "R_RISCV_PCREL_LO12_S",
    26: "R_RISCV_HI20", 27: "R_RISCV_LO12_I", 28: "R_RISCV_LO12_S", 43: "R_RISCV_ALIGN",
    44: "R_RISCV_RVC_BRANCH", 45: "R_RISCV_RVC_JUMP", 51: "R_RISCV_RELAX",
}  # fmt: skip


def _reloc_name(number: int, elf: ELFFile) -> str:
    if elf["e_machine"] == "EM_RISCV":
        return _RISCV_RELOCATIONS.get(number, f"R_RISCV_{number}")
    return str(describe_reloc_type(number, elf))


def _symbol(sym: Any, section_names: list[str]) -> Symbol:
    shndx = sym["st_shndx"]
    section = section_names[shndx] if isinstance(shndx, int) and shndx > 0 else None
    return Symbol(
        name=sym.name,
        value=sym["st_value"],
        size=sym["st_size"],
        kind=sym["st_info"]["type"],
        bind=sym["st_info"]["bind"],
        section=section,
        undefined_ref=shndx == "SHN_UNDEF",
    )
