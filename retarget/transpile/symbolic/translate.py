"""Translate the functions of an x86-64 assembly file, and carry its data over."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from retarget.isa.elf import Section
from retarget.transpile.symbolic.aarch64 import A64Function, Naming
from retarget.transpile.symbolic.analysis import Refusal, build_blocks
from retarget.transpile.symbolic.lift import lift
from retarget.transpile.symbolic.unit import X86Unit, load_unit

PC_RELATIVE = {"R_X86_64_PC32", "R_X86_64_PLT32", "R_X86_64_GOTPCREL", "R_X86_64_GOTPCRELX",
               "R_X86_64_REX_GOTPCRELX", "R_X86_64_PC64"}  # fmt: skip


class FunctionStatus(BaseModel):
    name: str
    translated: bool
    reason: str = ""
    line: int | None = None


class TranslationResult(BaseModel):
    target: str
    assembly: str
    functions: list[FunctionStatus]

    @property
    def refused(self) -> list[FunctionStatus]:
        return [f for f in self.functions if not f.translated]


@dataclass
class _Context:
    unit: X86Unit
    text_labels: set[int] = field(default_factory=set)
    data_labels: set[int] = field(default_factory=set)

    def label(self, address: int) -> str:
        return f".Lx{address:x}"

    def symbol_for(self, address: int) -> str | None:
        if address in self.unit.externals:
            return self.unit.externals[address]
        for fn in self.unit.functions:
            if fn.start == address:
                return fn.name
        if self._in_text(address):
            self.text_labels.add(address)
            return self.label(address)
        if self._in_data(address):
            self.data_labels.add(address)
            return f".Ld{address:x}"
        return None

    def _in_text(self, address: int) -> bool:
        return any(s.address <= address < s.address + s.size for s in self.unit.text_sections())

    def _in_data(self, address: int) -> bool:
        return any(s.address <= address <= s.address + s.size for s in self.unit.data_sections())


def translate_source(
    text: str, target: str, shown_name: str = "SOURCE.s", only: str | None = None
) -> TranslationResult:
    """Translate every function of ``text`` (or only ``only`` and what it jumps into)."""
    if target != "aarch64":
        raise Refusal(f"target {target} not supported by the symbolic translator yet")
    unit = load_unit(text, shown_name)
    ctx = _Context(unit)
    wanted = [unit.function(only)] if only else list(unit.functions)
    statuses: list[FunctionStatus] = []
    code: list[str] = ["\t.text"]
    for fn in wanted:
        try:
            lines = _translate_function(ctx, fn.name)
        except Refusal as refusal:
            line = unit.line_of(refusal.address) if refusal.address is not None else fn.line
            statuses.append(FunctionStatus(name=fn.name, translated=False,
                                           reason=refusal.reason, line=line))  # fmt: skip
            continue
        code += ["\t.p2align\t2", *lines]
        statuses.append(FunctionStatus(name=fn.name, translated=True, line=fn.line))
    data = _data(ctx)
    assembly = "\n".join([*code, *data, '\t.section\t.note.GNU-stack,"",%progbits', ""])
    return TranslationResult(target=target, assembly=assembly, functions=statuses)


def translate_file_text(text: str, target: str, shown_name: str) -> TranslationResult:
    return translate_source(text, target, shown_name)


def _translate_function(ctx: _Context, name: str) -> list[str]:
    unit = ctx.unit
    fn = unit.function(name)
    section = next(s for s in unit.text_sections() if s.address <= fn.start < s.address + s.size)
    code = section.data[fn.start - section.address : fn.end - section.address]
    insns = [i for i in lift(code, fn.start) if i.address < fn.end]
    if not insns:
        raise Refusal("no instructions")
    decoded = sum(i.size for i in insns)
    if fn.start + decoded < fn.end and insns[-1].end < fn.end:
        raise Refusal("bytes that do not decode as x86-64", insns[-1].end)
    table_targets = _table_targets(unit, fn.start, fn.end)
    facts = build_blocks(insns, fn.start, fn.end, table_targets)
    references = _operand_references(unit, insns)
    naming = Naming(ctx.label, ctx.symbol_for)
    emitter = A64Function(fn.name, facts, naming, references)
    return emitter.emit(fn.exported)


def _operand_references(unit: X86Unit, insns: list) -> dict[int, int]:  # type: ignore[type-arg]
    """Instruction address -> the absolute address its relocated operand names."""
    out: dict[int, int] = {}
    for ins in insns:
        for at in range(ins.address, ins.end):
            for ref in unit.references.get(at, []):
                extra = (ins.end - at) if ref.kind in PC_RELATIVE else 0
                out[ins.address] = ref.target + extra
    return out


def _table_targets(unit: X86Unit, start: int, end: int) -> list[int]:
    """Code addresses inside [start, end) that data refers to (jump-table entries)."""
    targets: list[int] = []
    for section in unit.data_sections():
        for at in range(section.address, section.address + section.size):
            for ref in unit.references.get(at, []):
                value = _data_word_target(unit, ref.at, ref.kind, ref.target)
                if value is not None and start <= value < end:
                    targets.append(value)
    return sorted(set(targets))


def _data_word_target(unit: X86Unit, at: int, kind: str, target: int) -> int | None:
    """The code address a relocated data word stands for: ``S + A`` for absolute words; for
    a PC-relative word (``.long .L3-.L4``) the table base plus the stored offset."""
    if kind not in PC_RELATIVE:
        return target
    base = _label_before(unit, at)
    if base is None:
        return None
    section = next(s for s in unit.data_sections() if s.address <= at < s.address + s.size)
    stored = int.from_bytes(section.data[at - section.address : at - section.address + 4],
                            "little", signed=True)  # fmt: skip
    return base + stored


def _label_before(unit: X86Unit, at: int) -> int | None:
    best = None
    for sym in unit.image.symbols:
        if sym.defined and sym.name and sym.value <= at and sym.kind != "STT_SECTION":
            section = unit.image.sections.get(sym.section or "")
            if section is not None and not section.executable:
                if best is None or sym.value > best:
                    best = sym.value
    return best


def _data(ctx: _Context) -> list[str]:
    out: list[str] = []
    for section in ctx.unit.data_sections():
        out += _section_lines(ctx, section)
    return out


def _section_lines(ctx: _Context, section: Section) -> list[str]:
    """One data section byte for byte, with its symbols, the labels the code uses, and every
    relocated word rewritten as an expression over the new labels."""
    unit = ctx.unit
    nobits = section.kind == "SHT_NOBITS"
    flags = '"aw"' if section.flags & 0x1 else '"a"'
    out = [f"\t.section\t{section.name},{flags},{'%nobits' if nobits else '%progbits'}",
           "\t.p2align\t6"]  # fmt: skip
    names = {
        s.value: s
        for s in unit.image.symbols
        if s.defined and s.name and s.section == section.name and s.kind != "STT_SECTION"
    }
    pending = bytearray()
    pos, end = section.address, section.address + section.size
    while pos < end:
        refs = [] if nobits else unit.references.get(pos, [])
        labelled = pos in names or pos in ctx.data_labels or _is_table_base(unit, pos)
        if (labelled or refs) and pending:
            out.append(_bytes_line(pending, nobits))
            pending = bytearray()
        if labelled:
            sym = names.get(pos)
            if sym is not None and not sym.name.startswith(".L"):
                if sym.bind != "STB_LOCAL":
                    out.append(f"\t.globl\t{sym.name}")
                out += [f"\t.type\t{sym.name}, %object", f"\t.size\t{sym.name}, {sym.size}",
                        f"{sym.name}:"]  # fmt: skip
            out.append(f".Ld{pos:x}:")
        if refs:
            line, size = _data_word(ctx, refs[0].at, refs[0].kind, refs[0].target)
            out.append(line)
            pos += size
            continue
        pending.append(0 if nobits else section.data[pos - section.address])
        pos += 1
    if pending:
        out.append(_bytes_line(pending, nobits))
    return out


def _bytes_line(data: bytearray, nobits: bool) -> str:
    if nobits:
        return f"\t.zero\t{len(data)}"
    return "\t.byte\t" + ",".join(str(b) for b in data)


def _is_table_base(unit: X86Unit, pos: int) -> bool:
    return any(s.value == pos and s.name.startswith(".L") for s in unit.image.symbols if s.defined)


def _data_word(ctx: _Context, at: int, kind: str, target: int) -> tuple[str, int]:
    unit = ctx.unit
    if kind in ("R_X86_64_64",):
        name = ctx.symbol_for(target)
        if name is None:
            raise Refusal(f"data refers to an unknown address {target:#x}")
        return f"\t.quad\t{name}", 8
    if kind in ("R_X86_64_32", "R_X86_64_32S"):
        name = ctx.symbol_for(target)
        if name is None:
            raise Refusal(f"data refers to an unknown address {target:#x}")
        return f"\t.long\t{name}", 4
    if kind == "R_X86_64_PC32":
        base = _label_before(unit, at)
        code = _data_word_target(unit, at, kind, target)
        if base is None or code is None:
            raise Refusal("relative data word without a table label")
        ctx.text_labels.add(code)
        return f"\t.long\t{ctx.label(code)}-.Ld{base:x}", 4
    raise Refusal(f"unsupported data relocation {kind}")
