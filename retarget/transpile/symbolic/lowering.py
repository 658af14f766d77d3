"""The target-independent half of lowering one function's p-code: walking blocks and
instructions, dropping dead ops and the x86 return-address push of calls, temporaries with
their lifetimes, the static stack frame. An ISA subclass selects the instructions for each op
(``_op_<opcode>``) and knows its registers, prologue and epilogue."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from retarget.transpile.symbolic.analysis import (
    RIP,
    RSP,
    FunctionFacts,
    Refusal,
    gpr_base,
    is_flag,
)
from retarget.transpile.symbolic.lift import CONST, RAM, REG, TMP, Insn, Op, Var
from retarget.transpile.symbolic.passes import (
    PASSES,
    ops_computing,
    signed_value,
    wide_arithmetic,
)
from retarget.transpile.symbolic.upper import DeadBits, dead_bits

RESTORE_MARK = "\t# restore callee-saved registers"


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
    _dead: DeadBits = field(default_factory=DeadBits)
    """Narrow register writes whose other bits nothing reads."""
    _known: dict[Var, bool] = field(default_factory=dict)
    """Temporaries of this instruction known extended past their size: True when sign-,
    False when zero-extended to 64 bits."""
    _sext_regs: set[str] = field(default_factory=set)
    """Target registers of x86 registers known to hold a value sign-extended from bit 31
    (kept by targets whose 32-bit instructions sign-extend)."""
    _sign_extended: bool = False
    """Set by a handler whose 64-bit result is its low 32 bits sign-extended."""
    _user_address: int = -1
    """Address of the setcc/cmovcc being fused with its compare."""
    """(instruction, register) of 32-bit writes whose zeroed upper half nothing reads."""

    CALLER_TEMPS: ClassVar[tuple[str, ...]] = ()
    """Scratch registers a call may clobber (temporaries never live across a call)."""
    SAVED_TEMPS: ClassVar[tuple[str, ...]] = ()
    """Callee-saved scratch registers: saved at the frame's bottom when used."""
    TARGET_PASSES: ClassVar[tuple[Callable[[list[Op]], list[Op]], ...]] = ()
    """Rewrites of each instruction's ops for what the target's instructions can do."""
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
        self._dead = dead_bits(self.facts, self.returns, self._call_kinds)
        for addr in self.facts.order:
            insns = self.facts.blocks[addr].insns
            self._forget()  # a block may be entered from anywhere
            i = 0
            while i < len(insns):
                self._previous = insns[i - 1] if i else None
                if i + 1 < len(insns) and self._result_tested(insns, i, addr):
                    body.append(f"{self.naming.label(insns[i].address)}:")
                    self._instruction(insns[i], flags=False)
                    self._branch_on_result(insns[i], insns[i + 1])
                    i += 2
                    continue
                j = self._fused_user(insns, i, addr)
                if j is not None:
                    if j > i + 1:
                        # Instructions between the compare and its user that neither touch
                        # the flags nor change the compared values go first.
                        body.append(f"{self.naming.label(insns[i].address)}:")
                        for k in range(i + 1, j):
                            self._previous = insns[k - 1]
                            body.append(f"{self.naming.label(insns[k].address)}:")
                            self._instruction(insns[k])
                    self._compare_and_use(insns[i], insns[j], labelled=j == i + 1)
                    i = j + 1
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

    def _after_op(self, op: Op) -> None:
        """Called after each op is emitted (a target tracking register facts updates them)."""
        self._sign_extended = False

    def _forget(self) -> None:
        """Drop what is known about register contents: code may be reached from elsewhere."""
        self._sext_regs.clear()

    def _call_kinds(self, op: Op) -> list[str] | None:
        """Parameter kinds of a direct call's callee, when its prototype is known."""
        name = self.naming.symbol_for(op.ins[0].offset)
        return None if name is None else self.callees.get(name)

    def _upper_dead_after(self, v: Var, address: int | None = None) -> bool:
        """Whether the 32-bit write of ``v``'s register in this instruction (or the one at
        ``address``) may leave bits 32-63 as they come out: no path reads them."""
        if address is None and self._insn is not None:
            address = self._insn.address
        return (address, gpr_base(v)) in self._dead.upper

    def _clobbers(self, v: Var) -> bool:
        """Whether the op being emitted may compute its 1/2-byte register result ``v`` into
        the whole register: the other bits are dead and the handler reads every input
        before it writes."""
        op = self._current
        return op is not None and op.code in CLOBBER_SAFE and self._merge_dead(v)

    def _merge_dead(self, v: Var, address: int | None = None) -> bool:
        """Whether a 1/2-byte write of ``v`` (a register's low bytes) may clobber the rest of
        the register: no path reads those bits before they are written again."""
        if address is None and self._insn is not None:
            address = self._insn.address
        base = gpr_base(v)
        return base == v.offset and (address, base, v.size) in self._dead.merge

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
    def _fused_user(self, insns: list[Insn], i: int, block: int) -> int | None:
        """For a ``cmp``/``test`` at ``i``: the index of the one jcc, setcc or cmovcc reading
        its flags, when no flag is read afterwards and the instructions in between can go
        before the compare. The pair becomes a compare and a branch, set or select."""
        first = insns[i]
        head = first.text.split()[0] if first.text else ""
        if head not in ("CMP", "TEST") or _operands(first) is None:
            return None
        for j in range(i + 1, min(i + 1 + LOOKAHEAD, len(insns))):
            if self._fusable(insns, i, j, block):
                return j
            if not _independent(insns[j], first):
                return None
        return None

    def _result_tested(self, insns: list[Insn], i: int, block: int) -> bool:
        """An ALU instruction writing a register, then a jump, setcc or cmovcc on its zero or
        sign flag only (``and rdi, rax; jne``): the user tests the register and the flags
        are not made."""
        first, user = insns[i], insns[i + 1]
        head, _, operands = first.text.partition(" ")
        dest = _gpr(operands.split(",")[0])
        if head not in RESULT_FLAGS or dest is None or dest.offset == 0x20:
            return False
        if self._result_condition(user) is None:
            return False
        if not self._flags_dead_after(insns, i + 2, block):
            return False
        if _condition_user(user) is not None:
            return True
        branch = [op for op in user.ops if op.code == "CBRANCH"]
        return (
            i + 2 == len(insns)
            and len(branch) == 1
            and branch[0].ins[0].space == RAM
            and branch[0].ins[0].offset in self.facts.blocks
        )

    @staticmethod
    def _result_condition(user: Insn) -> str | None:
        name = user.text.split()[0] if user.text else ""
        kind = _condition_user(user)
        if kind is not None:
            name = "J" + kind[1]
        return ZERO_SIGN_JUMPS.get(name)

    def _branch_on_result(self, first: Insn, user: Insn) -> None:
        dest = _gpr(first.text.partition(" ")[2].split(",")[0])
        condition = self._result_condition(user)
        assert dest is not None and condition is not None
        self.lines.append(f"{self.naming.label(user.address)}:")
        self._begin(user)
        kind = _condition_user(user)
        if kind is None:
            target = next(op for op in user.ops if op.code == "CBRANCH").ins[0].offset
            self._compare_branch(condition, dest, dest, True, self.naming.label(target))
            return
        self._user_address = user.address
        if kind[0] == "SET":
            self._compare_set(condition, dest, dest, True, kind[2])
        else:
            assert kind[3] is not None
            self._compare_select(condition, dest, dest, True, kind[2], kind[3])

    def _fusable(self, insns: list[Insn], i: int, j: int, block: int) -> bool:
        first, user = insns[i], insns[j]
        head = first.text.split()[0]
        if not self._flags_dead_after(insns, j + 1, block):
            return False
        name = user.text.split()[0] if user.text else ""
        if _jump_condition(name, first) is not None:
            branch = [op for op in user.ops if op.code == "CBRANCH"]
            return (
                j + 1 == len(insns)
                and len(branch) == 1
                and branch[0].ins[0].space == RAM
                and branch[0].ins[0].offset in self.facts.blocks
            )
        kind = _condition_user(user)
        if kind is None:
            return False
        condition = _jump_condition("J" + kind[1], first)
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

    def _compare_and_use(self, first: Insn, user: Insn, labelled: bool = True) -> None:
        """``labelled`` False: the compare's label was placed before instructions hoisted
        above it."""
        name = user.text.split()[0]
        if _jump_condition(name, first) is not None:
            self._compare_and_branch(first, user, labelled)
            return
        kind = _condition_user(user)
        assert kind is not None
        operands = _operands(first)
        assert operands is not None
        left, right = self._compare_prelude(first, *operands, labelled)
        # The compare's operands stay in their registers: no new instruction context here.
        self.lines.append(f"{self.naming.label(user.address)}:")
        condition = _jump_condition("J" + kind[1], first)
        assert condition is not None
        is_test = first.text.startswith("TEST")
        dest, source = kind[2], kind[3]
        self._user_address = user.address
        if kind[0] == "SET":
            self._compare_set(condition, left, right, is_test, dest)
        else:
            assert source is not None
            self._compare_select(condition, left, right, is_test, dest, source)

    def _compare_prelude(
        self, first: Insn, left: Var, right: Var, labelled: bool
    ) -> tuple[Var, Var]:
        """Label and the ops computing a cmp/test's operands (a load from memory, say); the
        operands as those ops leave them."""
        if labelled:
            self.lines.append(f"{self.naming.label(first.address)}:")
        self._begin(first)
        # A final pseudo-op reads the operands, so the rewrites keep them and rename them.
        sliced = [*ops_computing(first.ops, {left, right}), Op("USE", None, (left, right))]
        needed = self._rewrite(sliced)
        left, right = needed.pop().ins
        self._ops = needed
        self._last_use = _last_uses(needed)
        self._last_use |= {v: len(needed) for v in (left, right) if v.space == TMP}
        for index, op in enumerate(needed):
            self._emit_op(op, index)
        self._scratch = []
        return left, right

    @abstractmethod
    def _compare_set(self, condition: str, left: Var, right: Var, is_test: bool, dest: Var) -> None:
        """``dest`` (a byte register) = 1 when the comparison holds, else 0."""

    @abstractmethod
    def _compare_select(
        self, condition: str, left: Var, right: Var, is_test: bool, dest: Var, source: Var
    ) -> None:
        """``dest = source`` when the comparison holds; a 32-bit ``dest`` is zero-extended
        either way (as x86 cmov does)."""

    def _compare_and_branch(self, first: Insn, jump: Insn, labelled: bool) -> None:
        operands = _operands(first)
        assert operands is not None
        left, right = self._compare_prelude(first, *operands, labelled)
        self.lines.append(f"{self.naming.label(jump.address)}:")
        target = next(op for op in jump.ops if op.code == "CBRANCH").ins[0].offset
        condition = _jump_condition(jump.text.split()[0], first)
        assert condition is not None
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
        self._known = {}
        self._aliases = set()
        self._free = list(self.CALLER_TEMPS) + list(self.SAVED_TEMPS)
        self._index = {id(op): i for i, op in enumerate(ins.ops)}

    def _instruction(self, ins: Insn, flags: bool = True) -> None:
        """``flags`` False: the flags it writes are not computed (a fused user reads its
        result instead)."""
        self._begin(ins)
        ops = [op for i, op in enumerate(ins.ops) if (ins.address, i) not in self.facts.dead
               and (flags or op.out is None or not is_flag(op.out))]  # fmt: skip
        wide = wide_arithmetic(ins, ops, self._previous)
        if wide is not None and self.returns is None and ins.text.startswith(("MUL", "IMUL")):
            raise Refusal("a 128-bit product: whether rdx is part of the return value needs "
                          "the prototype", ins.address)  # fmt: skip
        if wide is not None:
            for op in wide:
                self._index[id(op)] = 0
            ops = wide
        if any(op.code in ("CALL", "CALLIND") for op in ops):
            ops = self._call_ops(ins, ops)
        ops = self._rewrite(ops)
        if any(op.code == "RETURN" for op in ops):
            ops = [op for op in ops if op.out not in (RIP, RSP)]
        self._ops = ops
        internal = {i for i, op in enumerate(ops)
                    if op.code in ("BRANCH", "CBRANCH") and op.ins[0].space == CONST}  # fmt: skip
        targets = {i + signed_value(ops[i].ins[0].offset, 8) for i in internal}
        self._last_use = _last_uses(ops)
        if targets:
            self._forget()  # ops inside the instruction's own loop
        for index, op in enumerate(ops):
            if index in targets:
                self.lines.append(f".Lp{ins.address:x}_{index}:")
            self._emit_op(op, index)
        if len(ops) in targets:
            self.lines.append(f".Lp{ins.address:x}_{len(ops)}:")
        if targets:
            self._forget()  # which of its ops ran depends on the path taken

    def _rewrite(self, ops: list[Op]) -> list[Op]:
        """``ops`` through every rewrite; each result op keeps its original's position (for
        the stack offsets known per op)."""
        out = ops
        for rewrite in (*PASSES, *self.TARGET_PASSES):
            out = rewrite(out)
        for new, old in zip(out, ops, strict=True):
            if id(old) in self._index:
                self._index[id(new)] = self._index[id(old)]
        return out

    def _emit_op(self, op: Op, index: int) -> None:
        """One op: its scratch registers go back to the pool after it, temporaries after
        their last use."""
        self._scratch = []
        self._current = op
        self._op(op, index)
        self._after_op(op)
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
        if (
            op.code == "INT_ZEXT"
            and op.out is not None
            and op.out.size == 8
            and op.ins[0].size == 4
            and self._upper_dead_after(op.out)
        ):
            op = Op("COPY", op.out, op.ins, "w32")
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
            if not self._upper_dead_after(op.out):
                self._clear_upper32(self._dst(op.out))

    @abstractmethod
    def _dst(self, v: Var) -> str:
        """The register a result for ``v`` is computed into."""

    @abstractmethod
    def _commit(self, v: Var, reg: str) -> None:
        """Finish a write of ``v`` computed into ``reg`` (partial registers, XMM lanes)."""

    def _unary(self, op: Op, mnemonic: str) -> None:
        """A one-instruction unary op (``neg``, ``not``) from register to register."""
        assert op.out is not None
        a = self.val(op.ins[0])
        dst = self._dst(op.out)
        self.lines.append(f"\t{mnemonic}\t{dst}, {a}")
        self._commit(op.out, dst)

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


LOOKAHEAD = 4
CLOBBER_SAFE = {"COPY", "LOAD", "INT_ADD", "INT_SUB", "INT_MULT", "INT_AND", "INT_OR",
                "INT_XOR", "INT_NEGATE", "INT_2COMP"}  # fmt: skip
"""Ops whose handlers write their result with one instruction after reading the inputs."""
"""How far after a compare its flag user is looked for."""
RESULT_FLAGS = {"ADD", "SUB", "AND", "OR", "XOR", "INC", "DEC", "NEG"}
"""Instructions whose ZF and SF describe the value they write to their first operand."""
ZERO_SIGN_JUMPS = {"JZ": "eq", "JE": "eq", "JNZ": "ne", "JNE": "ne", "JS": "lt", "JNS": "ge"}
"""Jumps on ZF or SF alone, as the condition they test after ``test r, r``."""


def _independent(ins: Insn, compare: Insn) -> bool:
    """Whether ``ins`` may run before ``compare`` instead of after it: no flags, no control
    flow, no write of what the compare reads (registers; memory when it loads)."""
    read = [v for op in compare.ops for v in op.ins if v.space == REG and not is_flag(v)]
    loads = any(op.code == "LOAD" for op in compare.ops)
    for op in ins.ops:
        if op.code in ("BRANCH", "CBRANCH", "BRANCHIND", "CALL", "CALLIND", "RETURN",
                       "CALLOTHER"):  # fmt: skip
            return False
        if op.code == "STORE" and loads:
            return False
        if any(is_flag(v) for v in op.ins) or (op.out is not None and is_flag(op.out)):
            return False
        out = op.out
        if (
            out is not None
            and out.space == REG
            and any(
                (out.offset & ~7) == (v.offset & ~7)
                or (out.offset < v.offset + v.size and v.offset < out.offset + out.size)
                for v in read
            )
        ):
            return False
    return True


def _is_return_push(op: Op, ins: Insn) -> bool:
    return op.code == "STORE" and op.ins[2].space == CONST and op.ins[2].offset == ins.end


def _last_uses(ops: list[Op]) -> dict[Var, int]:
    last: dict[Var, int] = {}
    for index, op in enumerate(ops):
        for v in (*op.ins, *([op.index] if op.index is not None else [])):
            if v.space == TMP:
                last[v] = index
        if op.out is not None and op.out.space == TMP:
            last.setdefault(op.out, index)
    # A temporary read by an earlier internal branch target stays allocated to the end.
    return last


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


def _jump_condition(name: str, compare: Insn) -> str | None:
    """The comparison jcc ``name`` makes after ``compare``; js/jns only after a test, whose
    OF = 0 makes them lt/ge."""
    if name in JCC:
        return JCC[name]
    if name in ("JS", "JNS") and compare.text.startswith("TEST"):
        return "lt" if name == "JS" else "ge"
    return None


WHOLE_MOVES = ("MOVAPS XMM", "MOVAPD XMM", "MOVUPS XMM", "MOVUPD XMM", "MOVDQA XMM",
               "MOVDQU XMM")  # fmt: skip
"""Register-to-register moves of a whole XMM register (p-code copies it lane by lane)."""


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
