"""Translate the functions of an x86-64 assembly file, and carry its data over."""

from __future__ import annotations

import tempfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from retarget.errors import InputError, SourceError
from retarget.isa import Isa, get_target
from retarget.isa.elf import Section, Symbol
from retarget.isa.toolchain import assemble
from retarget.testgen.ctype import TypeKind
from retarget.testgen.prototype import Prototype, parse_prototype
from retarget.transpile.symbolic.aarch64 import A64Function
from retarget.transpile.symbolic.analysis import Refusal, build_blocks
from retarget.transpile.symbolic.lift import Insn, lift
from retarget.transpile.symbolic.lowering import Naming
from retarget.transpile.symbolic.riscv64 import RV64Function
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
    global_refs: set[int] = field(default_factory=set)
    _code_in_data: frozenset[int] | None = None

    def code_in_data(self) -> frozenset[int]:
        """Code addresses relocated data words stand for (jump-table entries), found once."""
        if self._code_in_data is None:
            found: set[int] = set()
            for section in self.unit.data_sections():
                end = section.address + section.size
                for at, refs in self.unit.references.items():
                    if section.address <= at < end:
                        for ref in refs:
                            value = _data_word_target(self.unit, ref.at, ref.kind, ref.target)
                            if value is not None:
                                found.add(value)
            self._code_in_data = frozenset(found)
        return self._code_in_data

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
            named = self._named_object(address)
            if named is not None:
                return named
            self.data_labels.add(address)
            return f".Ld{address:x}"
        return None

    def _named_object(self, address: int) -> str | None:
        """``name+off`` inside data that has a global name (shared with native code)."""
        for sym in self.unit.image.symbols:
            if (sym.defined and sym.name and not sym.name.startswith(".L")
                    and sym.bind != "STB_LOCAL" and sym.kind == "STT_OBJECT"
                    and sym.value <= address < sym.value + max(sym.size, 1)):  # fmt: skip
                off = address - sym.value
                self.global_refs.add(sym.value)
                return sym.name if off == 0 else f"{sym.name}+{off}"
        return None

    def _in_text(self, address: int) -> bool:
        return any(s.address <= address < s.address + s.size for s in self.unit.text_sections())

    def _in_data(self, address: int) -> bool:
        return any(s.address <= address <= s.address + s.size for s in self.unit.data_sections())


def function_names(unit: X86Unit) -> list[str]:
    """The functions of a unit, parts split off by gcc (``f.cold``) aside: they go with f."""
    parents = {f.name for f in unit.functions}
    return [
        f.name for f in unit.functions
        if not (f.name.endswith(".cold") and f.name.removesuffix(".cold") in parents)
    ]  # fmt: skip


def translate_source(
    text: str,
    target: str,
    shown_name: str = "SOURCE.s",
    only: str | Collection[str] | None = None,
    signatures: dict[str, str] | None = None,
) -> TranslationResult:
    """Translate every function of ``text`` (or only ``only``: one name or several, with
    only the data they reach).

    ``signatures`` (C prototypes by function name) make return values exact where the target
    ABI extends them (RV64); without one the width is inferred from how rax is written.
    Raises InputError subclasses for bad input (unknown target, text that does not assemble,
    a missing function). Functions that cannot be translated are listed as refused with the
    reason and the source line; the output is checked to assemble for the target.
    """
    isa = get_target(target)
    prototypes = {name: parse_prototype(sig) for name, sig in (signatures or {}).items()}
    returns = {name: return_kind(proto) for name, proto in prototypes.items()}
    arguments = {name: argument_kinds(proto) for name, proto in prototypes.items()}
    unit = load_unit(text, shown_name)
    if only is None:
        names = function_names(unit)
    else:
        names = [only] if isinstance(only, str) else list(only)
    wanted = [unit.function(n) for n in names]
    refused: dict[str, FunctionStatus] = {}
    for _ in range(len(wanted) + 1):
        ctx = _Context(unit)
        statuses: list[FunctionStatus] = []
        code: list[str] = ["\t.text"]
        spans: list[tuple[int, int, str]] = []
        for fn in wanted:
            if fn.name in refused:
                statuses.append(refused[fn.name])
                continue
            try:
                lines = _translate_function(ctx, fn.name, isa.name, returns.get(fn.name), arguments)
            except Refusal as refusal:
                where = unit.line_of(refusal.address) if refusal.address is not None else None
                status = FunctionStatus(name=fn.name, translated=False, reason=refusal.reason,
                                        line=where or fn.line)  # fmt: skip
                refused[fn.name] = status
                statuses.append(status)
                continue
            code.append("\t.p2align\t2")
            spans.append((len(code) + 1, len(code) + len(lines), fn.name))
            code += lines
            statuses.append(FunctionStatus(name=fn.name, translated=True, line=fn.line))
        try:
            data = _data(ctx, whole=only is None)
        except Refusal as refusal:
            raise InputError(
                f"{shown_name}: data cannot be carried over: {refusal.reason}"
            ) from refusal
        assembly = "\n".join([*code, *data, '\t.section\t.note.GNU-stack,"",%progbits', ""])
        broken = _does_not_assemble(isa, assembly, spans)
        if broken is None:
            return TranslationResult(target=isa.name, assembly=assembly, functions=statuses)
        name, message = broken
        refused[name] = FunctionStatus(name=name, translated=False,
                                       reason=f"internal: emitted code does not assemble: {message}",
                                       line=unit.function(name).line)  # fmt: skip
    raise AssertionError("unreachable: every function refused")


def _does_not_assemble(
    isa: Isa, assembly: str, spans: list[tuple[int, int, str]]
) -> tuple[str, str] | None:
    """(function, assembler message) of the first emitted function that does not assemble."""
    with tempfile.TemporaryDirectory(prefix="retarget-out-") as tmp:
        try:
            assemble(isa, assembly, Path(tmp) / "out.o", "OUT.s")
        except SourceError as exc:
            line = exc.line or 0
            for first, last, name in spans:
                if first <= line <= last:
                    return name, str(exc)
            raise
    return None


def _translate_function(
    ctx: _Context,
    name: str,
    target: str,
    returns: str | None = None,
    arguments: dict[str, list[str]] | None = None,
) -> list[str]:
    unit = ctx.unit
    fn = unit.function(name)
    parts = [fn, *(f for f in unit.functions if f.name == f"{name}.cold")]
    insns: list[Insn] = []
    for part in parts:
        section = next(s for s in unit.text_sections()
                       if s.address <= part.start < s.address + s.size)  # fmt: skip
        code = section.data[part.start - section.address : part.end - section.address]
        lifted = [i for i in lift(code, part.start) if i.address < part.end]
        if not lifted or (lifted[-1].end < part.end and _undecoded(lifted, part.end)):
            raise Refusal("bytes that do not decode as x86-64", lifted[-1].end if lifted else None)
        insns += lifted
    ranges = [(p.start, p.end) for p in parts]
    table_targets = sorted(
        {t for t in ctx.code_in_data() if any(lo <= t < hi for lo, hi in ranges)}
    )
    facts = build_blocks(insns, ranges, table_targets)
    references = _operand_references(unit, insns)
    naming = Naming(ctx.label, ctx.symbol_for)
    backend = A64Function if target == "aarch64" else RV64Function
    emitter = backend(fn.name, facts, naming, references, returns, arguments or {})
    return emitter.emit(fn.exported)


def return_kind(proto: Prototype) -> str:
    """How a return value of this C type sits in a register (see ``Lowering.returns``)."""
    ctype = proto.returns
    if ctype.kind is TypeKind.VOID:
        return "void"
    if ctype.kind is TypeKind.FLOAT:
        return "f32" if ctype.bits == 32 else "f64"
    if ctype.bits > 64:
        return "x128"
    if ctype.kind is TypeKind.POINTER or ctype.bits >= 64:
        return "x64"
    if ctype.kind is TypeKind.BOOL:
        return "u8"
    return f"{'s' if ctype.signed else 'u'}{ctype.bits}"


def argument_kinds(proto: Prototype) -> list[str]:
    """Per parameter, how its register is filled under the target ABI (as ``return_kind``)."""
    return [return_kind(Prototype(proto.name, p.ctype, ())) for p in proto.params]


def _undecoded(insns: list[Insn], end: int) -> bool:
    """Trailing bytes past the last instruction that are not padding."""
    return insns[-1].end < end and not all(i.text.startswith("NOP") for i in insns[-1:])


def _operand_references(unit: X86Unit, insns: list) -> dict[int, int]:  # type: ignore[type-arg]
    """Instruction address -> the absolute address its relocated operand names."""
    out: dict[int, int] = {}
    for ins in insns:
        for at in range(ins.address, ins.end):
            for ref in unit.references.get(at, []):
                extra = (ins.end - at) if ref.kind in PC_RELATIVE else 0
                out[ins.address] = ref.target + extra
    return out


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


def _data(ctx: _Context, whole: bool) -> list[str]:
    """The data sections: all of them, or (``whole`` False) only the objects the emitted code
    reaches, without those that have a global name (the native side defines those)."""
    unit = ctx.unit
    objects = _data_objects(unit)
    if whole:
        chosen = set(objects)
    else:
        chosen = set()
        todo = [_object_of(objects, a) for a in ctx.data_labels]
        while todo:
            start = todo.pop()
            if start is None or start in chosen or _has_global_name(unit, start):
                continue
            chosen.add(start)
            for at in range(start, objects[start]):
                for ref in unit.references.get(at, []):
                    target = _data_word_target(unit, ref.at, ref.kind, ref.target)
                    if target is not None:
                        todo.append(_object_of(objects, target))
    out: list[str] = []
    for section in unit.data_sections():
        spans = sorted((a, objects[a]) for a in chosen
                       if section.address <= a < section.address + section.size)  # fmt: skip
        if spans:
            out += _section_lines(ctx, section, spans, whole)
    return out


def _data_objects(unit: X86Unit) -> dict[int, int]:
    """start -> end of each data object: the bytes between one label and the next."""
    objects: dict[int, int] = {}
    for section in unit.data_sections():
        end = section.address + section.size
        bounds = sorted({section.address} | {
            s.value for s in unit.image.symbols
            if s.defined and s.name and s.kind != "STT_SECTION"
            and s.section == section.name and s.value < end
        })  # fmt: skip
        for lo, hi in zip(bounds, [*bounds[1:], end], strict=True):
            objects[lo] = hi
    return objects


def _object_of(objects: dict[int, int], address: int) -> int | None:
    for lo, hi in objects.items():
        if lo <= address < hi or address == lo:
            return lo
    return None


def _has_global_name(unit: X86Unit, address: int) -> bool:
    return any(s.defined and s.value == address and s.bind != "STB_LOCAL"
               and not s.name.startswith(".L") and s.kind != "STT_SECTION"
               for s in unit.image.symbols)  # fmt: skip


def _section_lines(
    ctx: _Context, section: Section, spans: list[tuple[int, int]], whole: bool
) -> list[str]:
    """Objects of one data section byte for byte, with their symbols, the labels the code
    uses, and every relocated word rewritten as an expression over the new labels."""
    unit = ctx.unit
    nobits = section.kind == "SHT_NOBITS"
    flags = '"aw"' if section.flags & 0x1 else '"a"'
    out = [f"\t.section\t{section.name},{flags},{'%nobits' if nobits else '%progbits'}"]
    names = {
        s.value: s
        for s in unit.image.symbols
        if s.defined and s.name and s.section == section.name and s.kind != "STT_SECTION"
    }
    previous_end = None
    for lo, hi in spans:
        if whole and previous_end is None:
            out.append("\t.p2align\t6")
        elif previous_end != lo:
            align = min(6, (lo & -lo).bit_length() - 1)
            out.append(f"\t.p2align\t{align}")
        out += _object_lines(ctx, section, names, lo, hi, nobits)
        previous_end = hi
    return out


def _object_lines(
    ctx: _Context, section: Section, names: dict[int, Symbol], lo: int, hi: int, nobits: bool
) -> list[str]:
    unit = ctx.unit
    out: list[str] = []
    pending = bytearray()
    pos = lo
    while pos < hi:
        refs = [] if nobits else unit.references.get(pos, [])
        labelled = pos == lo or pos in ctx.data_labels
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
