"""The target-independent half of lowering one function's p-code: walking blocks and
instructions, dropping dead ops and the x86 return-address push of calls, temporaries with
their lifetimes, the static stack frame. An ISA subclass selects the instructions for each op
(``_op_<opcode>``) and knows its registers, prologue and epilogue."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from retarget.transpile.symbolic.analysis import RIP, RSP, FunctionFacts, Refusal, is_flag
from retarget.transpile.symbolic.lift import CONST, RAM, REG, TMP, Insn, Op, Var

RESTORE_MARK = "\t# restore callee-saved registers"
FUSED_TEMP = 0xF000_0000
"""Offsets of temporaries the lowering introduces (pypcode's own are far below)."""


def _signed(value: int, size: int) -> int:
    bits = 8 * size
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


@dataclass
class Naming:
    """How addresses are spelt in the output: labels and symbols."""

    label: Callable[[int], str]
    symbol_for: Callable[[int], str | None]
    """A referenced address (data, function, external) as an assembler expression."""


@dataclass
class Lowering(ABC):
    name: str
    facts: FunctionFacts
    naming: Naming
    references: dict[int, int]
    """Instruction address -> the address its relocated operand names."""
    returns: str | None = None
    """Return kind from the prototype: void, x64, x128, s32/u32, s8/u8/s16/u16, f32, f64."""
    callees: dict[str, list[str]] = field(default_factory=dict)
    """Known prototypes of called functions: parameter kinds (as ``returns``) by name."""
    lines: list[str] = field(default_factory=list)
    frame: int = 0
    saved: list[str] = field(default_factory=list)
    _temps: dict[Var, str] = field(default_factory=dict)
    _free: list[str] = field(default_factory=list)
    _used_saved: set[str] = field(default_factory=set)
    _insn: Insn | None = None
    _scratch: list[str] = field(default_factory=list)
    _ops: list[Op] = field(default_factory=list)
    _index: dict[int, int] = field(default_factory=dict)
    _current: Op | None = None
    _last_use: dict[Var, int] = field(default_factory=dict)
    _rsp_used: bool = False
    _previous: Insn | None = None
    """The instruction before the one being lowered, in the same block."""
    _zero_extended: bool = False
    """Set by a handler whose 32-bit instruction already cleared the upper half."""
    _aliases: set[Var] = field(default_factory=set)
    _free_snapshot: list[str] = field(default_factory=list)

    CALLER_TEMPS: ClassVar[tuple[str, ...]] = ()
    """Scratch registers a call may clobber (temporaries never live across a call)."""
    SAVED_TEMPS: ClassVar[tuple[str, ...]] = ()
    """Callee-saved scratch registers: saved at the frame's bottom when used."""
    DISPATCH: ClassVar[dict[str, tuple[str, str]]] = {}
    """p-code ops lowered by one helper with a mnemonic: code -> (helper, mnemonic)."""

    @abstractmethod
    def _prologue(self) -> list[str]:
        raise NotImplementedError

    @abstractmethod
    def _epilogue(self) -> list[str]:
        raise NotImplementedError

    @abstractmethod
    def val(self, v: Var) -> str:
        raise NotImplementedError

    @abstractmethod
    def _op_branch(self, op: Op) -> None:
        raise NotImplementedError

    @abstractmethod
    def _divide(self, op: Op, signed: bool, remainder: bool) -> None:
        """Quotient or remainder with x86's #DE cases (zero divisor, quotient too wide)."""

    def _op_int_div(self, op: Op) -> None:
        self._divide(op, False, False)

    def _op_int_rem(self, op: Op) -> None:
        self._divide(op, False, True)

    def _op_int_sdiv(self, op: Op) -> None:
        self._divide(op, True, False)

    def _op_int_srem(self, op: Op) -> None:
        self._divide(op, True, True)

    @abstractmethod
    def _wide(self, op: Op) -> None:
        """An op on 128-bit (XMM) values."""
        raise NotImplementedError

    def emit(self, exported: bool) -> list[str]:
        body: list[str] = []
        self.lines = body
        for addr in self.facts.order:
            insns = self.facts.blocks[addr].insns
            i = 0
            while i < len(insns):
                self._previous = insns[i - 1] if i else None
                if i + 1 < len(insns) and self._fusable(insns, i, addr):
                    self._compare_and_use(insns[i], insns[i + 1])
                    i += 2
                    continue
                body.append(f"{self.naming.label(insns[i].address)}:")
                self._instruction(insns[i])
                i += 1
        self.saved = sorted(self._used_saved)
        # Which callee-saved registers need restoring is known only now: fill in the returns.
        restore = self._restore()
        body = [line for b in body for line in (restore if b == RESTORE_MARK else [b])]
        head = [f"\t.globl\t{self.name}"] if exported else []
        head += [f"\t.type\t{self.name}, %function", f"{self.name}:"]
        head += self._prologue()
        return [*head, *body, f"\t.size\t{self.name}, .-{self.name}"]

    @abstractmethod
    def _restore(self) -> list[str]:
        """At a return or tail call: reload what the prologue saved and drop the frame."""

    @property
    def frame_needed(self) -> bool:
        """A leaf function that never touches the stack and spills nothing needs no frame."""
        return self._rsp_used or self.facts.calls or bool(self._used_saved)

    def _frame_size(self) -> int:
        """x86 frame below the entry RSP, its return-address slot, and room for every
        callee-saved temporary at the bottom."""
        return (8 - self.facts.lowest + 8 * len(self.SAVED_TEMPS) + 15) & ~15

    # --- cmp/test + jcc as one compare-and-branch --------------------------------------------
    def _fusable(self, insns: list[Insn], i: int, block: int) -> bool:
        """``cmp``/``test`` then one jcc, setcc or cmovcc that reads their flags, with no flag
        read afterwards: the pair becomes a compare and a branch, set or select."""
        first, user = insns[i], insns[i + 1]
        head = first.text.split()[0] if first.text else ""
        if head not in ("CMP", "TEST") or _operands(first) is None:
            return False
        if not self._flags_dead_after(insns, i + 2, block):
            return False
        name = user.text.split()[0] if user.text else ""
        if name in JCC:
            branch = [op for op in user.ops if op.code == "CBRANCH"]
            return (
                i + 2 == len(insns)
                and len(branch) == 1
                and branch[0].ins[0].space == RAM
                and branch[0].ins[0].offset in self.facts.blocks
            )
        kind = _condition_user(user)
        if kind is None:
            return False
        condition = JCC.get("J" + kind[1])
        return condition is not None and not (head == "TEST" and condition in ("lo", "hs"))

    def _flags_dead_after(self, insns: list[Insn], start: int, block: int) -> bool:
        for ins in insns[start:]:
            reads = {v for op in ins.ops for v in op.ins if is_flag(v)}
            if reads:
                return False
            written = {op.out.offset for op in ins.ops if op.out is not None and is_flag(op.out)}
            if {0x200, 0x206, 0x207, 0x20B} <= written:
                return True
        return not self.facts.flags_out[block]

    def _compare_and_use(self, first: Insn, user: Insn) -> None:
        name = user.text.split()[0]
        if name in JCC:
            self._compare_and_branch(first, user)
            return
        kind = _condition_user(user)
        assert kind is not None
        operands = _operands(first)
        assert operands is not None
        left, right = operands
        self._compare_prelude(first, left, right)
        # The compare's operands stay in their registers: no new instruction context here.
        self.lines.append(f"{self.naming.label(user.address)}:")
        condition = JCC["J" + kind[1]]
        is_test = first.text.startswith("TEST")
        dest, source = kind[2], kind[3]
        if kind[0] == "SET":
            self._compare_set(condition, left, right, is_test, dest)
        else:
            assert source is not None
            self._compare_select(condition, left, right, is_test, dest, source)

    def _compare_prelude(self, first: Insn, left: Var, right: Var) -> None:
        """Label and the ops computing a cmp/test's operands (a load from memory, say)."""
        self.lines.append(f"{self.naming.label(first.address)}:")
        self._begin(first)
        needed = _slice(first.ops, {left, right})
        self._ops = needed
        self._last_use = _last_uses(needed)
        self._last_use |= {v: len(needed) for v in (left, right) if v.space == TMP}
        for index, op in enumerate(needed):
            self._emit_op(op, index)
        self._scratch = []

    @abstractmethod
    def _compare_set(self, condition: str, left: Var, right: Var, is_test: bool, dest: Var) -> None:
        """``dest`` (a byte register) = 1 when the comparison holds, else 0."""

    @abstractmethod
    def _compare_select(
        self, condition: str, left: Var, right: Var, is_test: bool, dest: Var, source: Var
    ) -> None:
        """``dest = source`` when the comparison holds; a 32-bit ``dest`` is zero-extended
        either way (as x86 cmov does)."""

    def _compare_and_branch(self, first: Insn, jump: Insn) -> None:
        operands = _operands(first)
        assert operands is not None
        left, right = operands
        self._compare_prelude(first, left, right)
        self.lines.append(f"{self.naming.label(jump.address)}:")
        target = next(op for op in jump.ops if op.code == "CBRANCH").ins[0].offset
        condition = JCC[jump.text.split()[0]]
        is_test = first.text.startswith("TEST")
        self._compare_branch(condition, left, right, is_test, self.naming.label(target))

    @abstractmethod
    def _compare_branch(
        self, condition: str, left: Var, right: Var, is_test: bool, label: str
    ) -> None:
        """Branch to ``label`` when ``left`` ``condition`` ``right`` holds (for ``is_test``:
        when ``left & right`` compared with 0 does)."""

    def _begin(self, ins: Insn) -> None:
        self._insn = ins
        self._temps = {}
        self._aliases = set()
        self._free = list(self.CALLER_TEMPS) + list(self.SAVED_TEMPS)
        self._index = {id(op): i for i, op in enumerate(ins.ops)}

    def _instruction(self, ins: Insn) -> None:
        self._begin(ins)
        ops = [op for i, op in enumerate(ins.ops) if (ins.address, i) not in self.facts.dead]
        wide = _wide_arithmetic(ins, ops, self._previous)
        if wide is not None and self.returns is None and ins.text.startswith(("MUL", "IMUL")):
            raise Refusal("a 128-bit product: whether rdx is part of the return value needs "
                          "the prototype", ins.address)  # fmt: skip
        if wide is not None:
            for op in wide:
                self._index[id(op)] = 0
            ops = wide
        if any(op.code in ("CALL", "CALLIND") for op in ops):
            ops = self._call_ops(ins, ops)
        fused = _fold_displacements(
            _fuse_zero_extension(_fuse_load_extension(_drop_unread(_narrow_subpieces(ops))))
        )
        for new, old in zip(fused, ops, strict=True):
            self._index[id(new)] = self._index[id(old)]
        ops = fused
        if any(op.code == "RETURN" for op in ops):
            ops = [op for op in ops if op.out not in (RIP, RSP)]
        self._ops = ops
        internal = {i for i, op in enumerate(ops)
                    if op.code in ("BRANCH", "CBRANCH") and op.ins[0].space == CONST}  # fmt: skip
        targets = {i + _signed(ops[i].ins[0].offset, 8) for i in internal}
        self._last_use = _last_uses(ops)
        for index, op in enumerate(ops):
            if index in targets:
                self.lines.append(f".Lp{ins.address:x}_{index}:")
            self._emit_op(op, index)
        if len(ops) in targets:
            self.lines.append(f".Lp{ins.address:x}_{len(ops)}:")

    def _emit_op(self, op: Op, index: int) -> None:
        """One op: its scratch registers go back to the pool after it, temporaries after
        their last use."""
        self._scratch = []
        self._current = op
        self._op(op, index)
        bound = set(self._temps.values())
        self._free[:0] = [r for r in self._scratch if r not in bound]
        self._release(index)

    def _call_ops(self, ins: Insn, ops: list[Op]) -> list[Op]:
        """Drop the push of the x86 return address: ``bl`` keeps it in x30 instead."""
        kept = [op for op in ops if op.out != RSP and not _is_return_push(op, ins)]
        return kept

    def _temp(self) -> str:
        """A scratch register for the current op (returned to the pool after it)."""
        if not self._free:
            raise Refusal(f"too many live values in {self._text()}", self._addr())
        reg = self._free.pop(0)
        if reg in self.SAVED_TEMPS:
            self._used_saved.add(reg)
        self._scratch.append(reg)
        return reg

    def _release(self, index: int) -> None:
        for var, last in list(self._last_use.items()):
            if last == index and var in self._temps:
                reg = self._temps.pop(var)
                if var not in self._aliases:
                    self._free.insert(0, reg)

    def _alias(self, op: Op, index: int) -> bool:
        """``tmp = COPY reg`` costs nothing when reg keeps its value while tmp is live: tmp
        simply names reg's register."""
        assert op.out is not None
        source = op.ins[0]
        if source.space != REG or op.out.space != TMP:
            return False
        end = self._last_use.get(op.out, index)
        for later in self._ops[index + 1 : end + 1]:
            target = later.out
            if (
                target is not None
                and target.space == REG
                and (target.offset // 8 == source.offset // 8)
            ):
                return False
        before = list(self._scratch)
        reg = self.val(source)
        if self._scratch != before:
            self._scratch = before  # val needed a scratch register (a shifted part): undo
            self._free[:0] = [r for r in self._free_snapshot if r not in self._free]
            return False
        self._temps[op.out] = reg
        self._aliases.add(op.out)
        return True

    def _addr(self) -> int | None:
        return None if self._insn is None else self._insn.address

    def _rsp_offset(self) -> int:
        """sp-relative offset of RSP's value before the op being emitted."""
        assert self._insn is not None
        self._rsp_used = True
        key = (self._insn.address, self._index[id(self._current)])
        return self._frame_size() - 8 + self.facts.op_delta[key]

    def _constant(self, v: Var) -> int:
        """A constant operand; relocated addresses become symbol references (see ``_const``)."""
        return v.offset & ((1 << (8 * v.size)) - 1)

    def _symbolic(self, value: int) -> str | None:
        assert self._insn is not None
        named = self.references.get(self._insn.address)
        if named is not None and named == value:
            return self.naming.symbol_for(value)
        return None

    def _text(self) -> str:
        return "?" if self._insn is None else self._insn.text

    def _op(self, op: Op, index: int) -> None:
        if any(v.size > 8 for v in (*op.ins, *([op.out] if op.out else []))
               if v.space != CONST or op.code not in ("LOAD", "STORE")):  # fmt: skip
            self._wide(op)
            return
        if op.code == "COPY" and op.out is not None and op.out.space == TMP:
            self._free_snapshot = list(self._free)
            if self._alias(op, index):
                return
        self._zero_extended = False
        if op.code in self.DISPATCH:
            helper, mnemonic = self.DISPATCH[op.code]
            getattr(self, helper)(op, mnemonic)
        else:
            handler = getattr(self, f"_op_{op.code.lower()}", None)
            if handler is None:
                name = op.extra.strip(" ()") or op.code
                raise Refusal(f"unsupported: {self._text()} ({name})", self._addr())
            handler(op)
        if op.extra == "w32" and not self._zero_extended:
            assert op.out is not None
            self._clear_upper32(self._dst(op.out))

    @abstractmethod
    def _dst(self, v: Var) -> str:
        """The register a result for ``v`` is computed into."""

    @abstractmethod
    def _clear_upper32(self, reg: str) -> None:
        """Zero bits 32-63 of ``reg`` (x86 32-bit writes clear them)."""

    def _op_nop(self, op: Op) -> None:
        """A position kept by a fusion: nothing to emit."""
        return None

    def _op_index(self, op: Op) -> int:
        return next(i for i, o in enumerate(self._ops) if o is op)

    def _callee(self, address: int) -> str:
        name = self.naming.symbol_for(address)
        if name is None:
            raise Refusal(f"call to an unknown address {address:#x}", self._addr())
        return name


def _is_return_push(op: Op, ins: Insn) -> bool:
    return op.code == "STORE" and op.ins[2].space == CONST and op.ins[2].offset == ins.end


def _last_uses(ops: list[Op]) -> dict[Var, int]:
    last: dict[Var, int] = {}
    for index, op in enumerate(ops):
        for v in op.ins:
            if v.space == TMP:
                last[v] = index
        if op.out is not None and op.out.space == TMP:
            last.setdefault(op.out, index)
    # A temporary read by an earlier internal branch target stays allocated to the end.
    return last


RAX_, RDX_ = Var(REG, 0x00, 8), Var(REG, 0x10, 8)


def _wide_arithmetic(ins: Insn, ops: list[Op], previous: Insn | None) -> list[Op] | None:
    """The 128-bit shapes of 64-bit x86 arithmetic that have direct equivalents: cqo (rdx =
    sign of rax), one-operand mul/imul (rdx:rax = rax * src, high half by umulh/smulh), and
    div/idiv right after rdx was set to the extension of rax (xor edx, edx / cqo), which makes
    the 128-bit dividend a 64-bit one."""
    name = ins.text.split()[0] if ins.text else ""
    if name == "CQO":
        return [Op("INT_SRIGHT", RDX_, (RAX_, Var(CONST, 63, 8)))]
    if name in ("DIV", "IDIV"):
        return _narrow_division(name, ops, previous)
    if name not in ("MUL", "IMUL") or "," in ins.text:
        return None
    sources = [v for op in ops if op.code in ("INT_ZEXT", "INT_SEXT") and op.out is not None
               and op.out.size == 16 for v in op.ins if v != RAX_]  # fmt: skip
    if len(sources) != 1 or sources[0].size != 8:
        return None
    source = sources[0]
    high, low = Var(TMP, FUSED_TEMP - 2, 8), Var(TMP, FUSED_TEMP - 1, 8)
    code = "INT_MULHU" if name == "MUL" else "INT_MULHS"
    out = [Op(code, high, (RAX_, source)), Op("INT_MULT", low, (RAX_, source)),
           Op("COPY", RDX_, (high,)), Op("COPY", RAX_, (low,))]  # fmt: skip
    flags = {op.out for op in ops if op.out is not None and op.out.space == REG
             and op.out.offset >= 0x200}  # fmt: skip
    if flags:
        # CF = OF = "the high half is not just the extension of the low half".
        carry = Var(REG, 0x200, 1)
        extension = Var(TMP, FUSED_TEMP - 3, 8)
        if name == "MUL":
            out.append(Op("INT_NOTEQUAL", carry, (high, Var(CONST, 0, 8))))
        else:
            out.append(Op("INT_SRIGHT", extension, (low, Var(CONST, 63, 8))))
            out.append(Op("INT_NOTEQUAL", carry, (high, extension)))
        out.append(Op("COPY", Var(REG, 0x20B, 1), (carry,)))
    return out


def _narrow_division(name: str, ops: list[Op], previous: Insn | None) -> list[Op] | None:
    divides = [op for op in ops if op.code in ("INT_DIV", "INT_SDIV") and op.ins[0].size == 16]
    if not divides or previous is None:
        return None
    before = previous.text.replace(" ", "")
    extended = before == "CQO" if name == "IDIV" else before in ("XOREDX,EDX", "MOVEDX,0x0")
    if not extended:
        return None
    sources = [v for op in ops if op.code in ("INT_ZEXT", "INT_SEXT") and op.out is not None
               and op.out.size == 16 and op.ins[0] not in (RAX_, RDX_) for v in op.ins]  # fmt: skip
    if len(sources) != 1 or sources[0].size != 8:
        return None
    quotient, remainder = Var(TMP, FUSED_TEMP - 4, 8), Var(TMP, FUSED_TEMP - 5, 8)
    signed = name == "IDIV"
    out = _slice(tuple(ops), {sources[0]})  # a memory divisor: its address and load
    out += [Op("INT_SDIV" if signed else "INT_DIV", quotient, (RAX_, sources[0]), "x86div64"),
            Op("INT_SREM" if signed else "INT_REM", remainder, (RAX_, sources[0]), "x86div64"),
            Op("COPY", RAX_, (quotient,)), Op("COPY", RDX_, (remainder,))]  # fmt: skip
    return out


NARROWABLE = {"INT_ADD", "INT_SUB", "INT_MULT", "INT_AND", "INT_OR", "INT_XOR"}


def _narrow_subpieces(ops: list[Op]) -> list[Op]:
    """``x = low part of (a op b)`` for +, -, *, &, |, ^ is ``x = low(a) op low(b)``: the wide
    operation (and the extensions feeding it, as in imul r32) is not needed. Positions are kept;
    what becomes unread is dropped by ``_drop_unread``."""
    out = list(ops)
    defs: dict[Var, int] = {
        op.out: i for i, op in enumerate(out) if op.out is not None and op.out.space == TMP
    }
    for i, op in enumerate(out):
        if op.code != "SUBPIECE" or op.out is None or op.ins[1].offset != 0:
            continue
        wide = op.ins[0]
        j = defs.get(wide)
        if j is None or j >= i or out[j].code not in NARROWABLE:
            continue
        if sum(wide in other.ins for other in out) != 1:
            continue
        size = op.out.size
        narrow = [_narrow(v, size, out, defs) for v in out[j].ins]
        if any(v is None for v in narrow):
            continue
        out[i] = Op(out[j].code, op.out, tuple(v for v in narrow if v is not None))
    return out


def _narrow(v: Var, size: int, ops: list[Op], defs: dict[Var, int]) -> Var | None:
    """``v``'s low ``size`` bytes as a varnode of that size, where one names them."""
    if v.space == CONST:
        return Var(CONST, v.offset & ((1 << (8 * size)) - 1), size)
    if v.space == REG and v.size >= size and v.offset < 0x100 and v.offset % 8 == 0:
        return Var(REG, v.offset, size)
    j = defs.get(v)
    if j is not None and ops[j].code in ("INT_SEXT", "INT_ZEXT") and ops[j].ins[0].size == size:
        source = ops[j].ins[0]
        return source if source.space != TMP else None
    return None


def _drop_unread(ops: list[Op]) -> list[Op]:
    """Ops computing temporaries nothing reads any more become NOPs (positions kept)."""
    out = list(ops)
    changed = True
    while changed:
        changed = False
        read = {v for op in out for v in op.ins}
        for i, op in enumerate(out):
            if op.out is not None and op.out.space == TMP and op.out not in read:
                if op.code not in ("CALLOTHER", "LOAD"):
                    out[i] = Op("NOP", None, ())
                    changed = True
    return out


def _fold_displacements(ops: list[Op]) -> list[Op]:
    """``t = a + c; LOAD/STORE [t]`` (t used nowhere else, a unchanged in between) addresses
    memory as ``[a + c]``: the addition disappears into the instruction's offset."""
    out = list(ops)
    for i, op in enumerate(out):
        if op.code not in ("INT_ADD", "INT_SUB") or op.out is None or op.out.space != TMP:
            continue
        base, const = op.ins
        if const.space != CONST or base.space == CONST or op.out.size != 8:
            continue
        value = _signed(const.offset, 8)
        disp = value if op.code == "INT_ADD" else -value
        users = [j for j, later in enumerate(out) if op.out in later.ins]
        if len(users) != 1:
            continue
        j = users[0]
        user = out[j]
        if user.code not in ("LOAD", "STORE") or user.ins[1] != op.out or user.disp:
            continue
        if any(
            later.out is not None
            and later.out.space == base.space
            and later.out.offset < base.offset + base.size
            and base.offset < later.out.offset + later.out.size
            for later in out[i + 1 : j]
        ):
            continue
        ins = (user.ins[0], base, *user.ins[2:])
        out[j] = Op(user.code, user.out, ins, user.extra, disp)
        out[i] = Op("NOP", None, ())
    return out


def _fuse_load_extension(ops: list[Op]) -> list[Op]:
    """``t = LOAD a; x = SEXT/ZEXT t`` (t used nowhere else) is one extending load, marked
    ``extra = "sext<size>"`` or ``"zext<size>"``."""
    out = list(ops)
    for i in range(len(out) - 1):
        load, ext = out[i], out[i + 1]
        temp = load.out
        if (
            load.code == "LOAD"
            and temp is not None
            and temp.space == TMP
            and temp.size < 8
            and ext.code in ("INT_SEXT", "INT_ZEXT")
            and ext.ins == (temp,)
            and ext.out is not None
            and ext.out.size <= 8
            and sum(temp in op.ins for op in out) == 1
        ):
            kind = "sext" if ext.code == "INT_SEXT" else "zext"
            out[i] = Op("NOP", None, ())  # keeps positions (internal branch offsets)
            out[i + 1] = Op("LOAD", ext.out, load.ins, f"{kind}{temp.size}", load.disp)
    return out


def _fuse_zero_extension(ops: list[Op]) -> list[Op]:
    """``EAX = f(...); RAX = zext(EAX)`` (every 32-bit x86 write) computes f into a temporary
    and writes the whole register once, instead of merging 32 bits into it first."""
    out = list(ops)
    for i in range(len(out) - 1):
        first, second = out[i], out[i + 1]
        target = first.out
        if (
            target is not None
            and target.space == REG
            and target.size == 4
            and target.offset < 0x100
            and target.offset % 8 == 0
            and second.code == "INT_ZEXT"
            and second.ins == (target,)
            and second.out == Var(REG, target.offset, 8)
        ):
            if first.code in W32_SAFE and not first.extra:
                # Computed straight into the full register, then its upper half cleared (or
                # by a 32-bit instruction that clears it anyway: see ``Lowering._op``).
                out[i] = Op(first.code, second.out, first.ins, "w32")
                out[i + 1] = Op("NOP", None, ())
                continue
            temp = Var(TMP, FUSED_TEMP + i, 4)
            out[i] = Op(first.code, temp, first.ins, first.extra)
            out[i + 1] = Op(second.code, second.out, (temp,), second.extra)
    return out


W32_SAFE = {"COPY", "INT_ADD", "INT_SUB", "INT_MULT", "INT_AND", "INT_OR", "INT_XOR",
            "INT_NEGATE", "INT_2COMP", "INT_LEFT", "INT_ZEXT", "INT_SEXT", "SUBPIECE"}  # fmt: skip
"""Ops whose handlers size their work by the inputs, so a 32-bit result may be computed into
a 64-bit destination: the low 32 bits come out right."""


JCC = {"JZ": "eq", "JE": "eq", "JNZ": "ne", "JNE": "ne", "JL": "lt", "JNGE": "lt",
       "JGE": "ge", "JNL": "ge", "JG": "gt", "JNLE": "gt", "JLE": "le", "JNG": "le",
       "JB": "lo", "JC": "lo", "JNAE": "lo", "JAE": "hs", "JNB": "hs", "JNC": "hs",
       "JA": "hi", "JNBE": "hi", "JBE": "ls", "JNA": "ls"}  # fmt: skip
"""x86 conditional jumps (as pypcode spells them) -> the comparison they test after cmp."""


GPR_NAMES = {
    **{n: (o, 8) for o, n in enumerate(("RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI"))},
    **{n: (o, 4) for o, n in enumerate(("EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"))},
    **{f"R{i}": (i, 8) for i in range(8, 16)},
    **{f"R{i}D": (i, 4) for i in range(8, 16)},
    **{n: (o, 1) for o, n in enumerate(("AL", "CL", "DL", "BL", "SPL", "BPL", "SIL", "DIL"))},
    **{f"R{i}B": (i, 1) for i in range(8, 16)},
}  # fmt: skip
"""x86 register name -> (number, size in bytes), for the operands of setcc and cmovcc."""


def _gpr(name: str) -> Var | None:
    found = GPR_NAMES.get(name.strip())
    if found is None:
        return None
    number, size = found
    offset = number * 8 if number < 8 else 0x80 + (number - 8) * 8
    return Var(REG, offset, size)


def _condition_user(ins: Insn) -> tuple[str, str, Var, Var | None] | None:
    """("SET" | "CMOV", condition suffix, destination, source) of a setcc / cmovcc between
    registers; None for anything else (memory operands included)."""
    name, _, rest = ins.text.partition(" ")
    operands = [o.strip() for o in rest.split(",")] if rest else []
    if name.startswith("SET") and len(operands) == 1:
        dest = _gpr(operands[0])
        return None if dest is None or dest.size != 1 else ("SET", name[3:], dest, None)
    if name.startswith("CMOV") and len(operands) == 2:
        dest, source = _gpr(operands[0]), _gpr(operands[1])
        if dest is None or source is None or dest.size not in (4, 8) or dest.size != source.size:
            return None
        if dest.offset == 0x20:  # rsp is not a register here
            return None
        return "CMOV", name[4:], dest, source
    return None


def _operands(ins: Insn) -> tuple[Var, Var] | None:
    """The two values a ``cmp`` subtracts or a ``test`` ands."""
    code = "INT_SUB" if ins.text.startswith("CMP") else "INT_AND"
    # The first such op is the instruction's own; later ones compute the parity flag.
    ops = [op for op in ins.ops if op.code == code]
    if not ops or any(v.size > 8 for v in ops[0].ins):
        return None
    left, right = ops[0].ins
    return left, right


def _slice(ops: tuple[Op, ...], wanted: set[Var]) -> list[Op]:
    """The ops that compute ``wanted`` temporaries (in order); registers are read directly."""
    needed: list[Op] = []
    want = {v for v in wanted if v.space == TMP}
    for op in reversed(ops):
        if op.out is not None and op.out in want:
            needed.append(op)
            want.discard(op.out)
            want |= {v for v in op.ins if v.space == TMP}
    return list(reversed(needed))
