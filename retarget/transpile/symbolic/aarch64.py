"""AArch64 code for one x86-64 function's p-code.

x86 registers live in fixed AArch64 registers chosen so the argument registers coincide
(rdi=x0 ... r9=x5) and the callee-saved ones map to callee-saved ones (rbx, rbp, r12-r15 =
x19-x24). The stack pointer is not a register at all: every RSP value is ``sp + constant`` fixed
at translation time. A value narrower than 64 bits sits in the low bits of its register with
the upper bits unspecified; operations that care extend first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from retarget.transpile.symbolic.analysis import (
    RSP,
    Refusal,
    gpr_base,
    is_flag,
)
from retarget.transpile.symbolic.lift import CONST, RAM, REG, TMP, Op, Var, register
from retarget.transpile.symbolic.lowering import RESTORE_MARK, WHOLE_MOVES, Lowering
from retarget.transpile.symbolic.passes import fold_index, signed_value

GPR = {0x00: "x6", 0x08: "x3", 0x10: "x2", 0x18: "x19", 0x28: "x20", 0x30: "x1", 0x38: "x0",
       0x80: "x4", 0x88: "x5", 0x90: "x7", 0x98: "x8", 0xA0: "x21", 0xA8: "x22", 0xB0: "x23",
       0xB8: "x24"}  # fmt: skip
FLAGS = {0x200: "x10", 0x202: "x14", 0x204: "x15", 0x206: "x11", 0x207: "x12", 0x20B: "x13"}
CALLER_TEMPS = ("x9", "x16", "x17")
XMM_BASE = 0x1200
XMM_STRIDE = 0x40
VECTOR_TEMPS = ("v24", "v25", "v26", "v27", "v28", "v29")
LANES = {1: "b", 2: "h", 4: "s", 8: "d"}
FP_SCRATCH = ("30", "31")
SAVED_TEMPS = ("x25", "x26", "x27", "x28")
FS_OFFSET = register("FS_OFFSET")
RETURN_REG = "x6"
MASK64 = (1 << 64) - 1


class A64Function(Lowering):
    """AArch64 instruction selection for each p-code op."""

    CALLER_TEMPS: ClassVar[tuple[str, ...]] = CALLER_TEMPS
    SAVED_TEMPS: ClassVar[tuple[str, ...]] = SAVED_TEMPS

    TARGET_PASSES: ClassVar[tuple[Callable[[list[Op]], list[Op]], ...]] = (fold_index,)
    DISPATCH: ClassVar[dict[str, tuple[str, str]]] = {
        "INT_ADD": ("_binary", "add"),
        "INT_SUB": ("_binary", "sub"),
        "INT_MULT": ("_binary", "mul"),
        "INT_AND": ("_binary", "and"),
        "INT_OR": ("_binary", "orr"),
        "INT_XOR": ("_binary", "eor"),
        "BOOL_AND": ("_binary", "and"),
        "BOOL_OR": ("_binary", "orr"),
        "BOOL_XOR": ("_binary", "eor"),
        "INT_2COMP": ("_unary", "neg"),
        "INT_NEGATE": ("_unary", "mvn"),
        "INT_SCARRY": ("_signed_overflow", "add"),
        "INT_SBORROW": ("_signed_overflow", "sub"),
        "INT_MULHU": ("_binary", "umulh"),
        "INT_MULHS": ("_binary", "smulh"),
        "FLOAT_ADD": ("_fp_binary", "fadd"),
        "FLOAT_SUB": ("_fp_binary", "fsub"),
        "FLOAT_MULT": ("_fp_binary", "fmul"),
        "FLOAT_DIV": ("_fp_binary", "fdiv"),
        "FLOAT_NEG": ("_fp_unary", "fneg"),
        "FLOAT_ABS": ("_fp_unary", "fabs"),
        "FLOAT_SQRT": ("_fp_unary", "fsqrt"),
        "FLOAT_FLOOR": ("_fp_unary", "frintm"),
        "FLOAT_CEIL": ("_fp_unary", "frintp"),
        "FLOAT_ROUND": ("_fp_unary", "frinta"),
        "FLOAT_EQUAL": ("_fp_compare", "eq"),
        "FLOAT_NOTEQUAL": ("_fp_compare", "ne"),
        "FLOAT_LESS": ("_fp_compare", "mi"),
        "FLOAT_LESSEQUAL": ("_fp_compare", "ls"),
    }
    """p-code ops that are one helper call with a mnemonic: (helper, mnemonic)."""

    # --- driver ----------------------------------------------------------------------------

    def _prologue(self) -> list[str]:
        if not self.frame_needed:
            return []
        out = _sp_adjust("sub", self._frame_size())
        for reg in self.saved:
            out.append(f"\tstr\t{reg}, [sp, #{8 * SAVED_TEMPS.index(reg)}]")
        if self.facts.calls:
            out += _store_at_sp("x30", self._frame_size() - 8)
        return out

    def _restore(self) -> list[str]:
        if not self.frame_needed:
            return []
        out = [f"\tldr\t{reg}, [sp, #{8 * SAVED_TEMPS.index(reg)}]" for reg in self.saved]
        if self.facts.calls:
            out += _load_at_sp("x30", self._frame_size() - 8)
        return out + _sp_adjust("add", self._frame_size())

    def _epilogue(self) -> list[str]:
        high = ["\tmov\tx1, x2"] if self.returns == "x128" else []  # rdx:rax -> x1:x0
        low = [] if self.returns in ("void", "f32", "f64") else [f"\tmov\tx0, {RETURN_REG}"]
        return [*low, *high, *self._unwind()]

    def _unwind(self) -> list[str]:
        """Restore what the prologue saved and drop the frame (filled in after the body)."""
        return [RESTORE_MARK]

    # --- registers -------------------------------------------------------------------------

    def _clear_upper32(self, reg: str) -> None:
        self.lines.append(f"\tmov\t{_width(reg, 4)}, {_width(reg, 4)}")

    def _add_imm(self, dst: str, src: str, value: int) -> None:
        if 0 <= value < 4096:
            self.lines.append(f"\tadd\t{dst}, {src}, #{value}")
            return
        if -4096 < value < 0:
            self.lines.append(f"\tsub\t{dst}, {src}, #{-value}")
            return
        self._const(dst, value)
        self.lines.append(f"\tadd\t{dst}, {src}, {dst}")

    def val(self, v: Var, scratch: bool = False) -> str:
        """A 64-bit register whose low ``v.size`` bytes hold ``v``."""
        if v.space == CONST:
            reg = self._temp()
            self._const(reg, self._constant(v))
            return reg
        if v.space == TMP:
            if v not in self._temps:
                raise Refusal(f"temporary read before written in {self._text()}", self._addr())
            return self._temps[v]
        if v == RSP:
            reg = self._temp()
            self._add_imm(reg, "sp", self._rsp_offset())
            return reg
        if v == FS_OFFSET:
            reg = self._temp()
            self.lines.append(f"\tmrs\t{reg}, tpidr_el0")
            return reg
        if is_flag(v) and v.offset in FLAGS and v.size == 1:
            return FLAGS[v.offset]
        base = gpr_base(v)
        if base is not None and base in GPR:
            shift = 8 * (v.offset - base)
            if shift == 0:
                return GPR[base]
            reg = self._temp()
            self.lines.append(f"\tlsr\t{reg}, {GPR[base]}, #{shift}")
            return reg
        lane = _xmm_lane(v)
        if lane is not None:
            vreg, index = lane
            reg = self._temp()
            wide = "x" if v.size == 8 else "w"
            self.lines.append(f"\tumov\t{wide}{reg[1:]}, {vreg}.{LANES[v.size]}[{index}]")
            return reg
        if v.space == RAM and v.size <= 8:
            reg = self._temp()
            self._const(reg, v.offset)
            self.lines.append(f"\t{_load_insn(v.size)}\t{_sized(reg, v.size)}, [{reg}]")
            return reg
        raise Refusal(f"unsupported register {v} in {self._text()}", self._addr())

    def _const(self, reg: str, value: int) -> None:
        symbol = self._symbolic(value)
        if symbol is not None:
            self.lines.append(f"\tadrp\t{reg}, {symbol}")
            self.lines.append(f"\tadd\t{reg}, {reg}, :lo12:{symbol}")
            return
        value &= MASK64
        if value == 0:
            self.lines.append(f"\tmov\t{reg}, xzr")
            return
        if (~value) & MASK64 < 0x10000:
            self.lines.append(f"\tmov\t{reg}, #{value - (1 << 64)}")
            return
        if value < 1 << 32 and (~value) & 0xFFFFFFFF < 0x10000:  # movn of a w register
            self.lines.append(f"\tmov\t{_width(reg, 4)}, #{value - (1 << 32)}")
            return
        first = True
        for shift in range(0, 64, 16):
            chunk = (value >> shift) & 0xFFFF
            if chunk == 0:
                continue
            op = "movz" if first else "movk"
            self.lines.append(f"\t{op}\t{reg}, #{chunk:#x}, lsl #{shift}")
            first = False

    def _dst(self, v: Var) -> str:
        """Register to compute ``v`` into; ``_commit`` finishes partial writes."""
        if v.space == TMP:
            reg = self._temps.get(v) or self._temp()
            self._temps[v] = reg
            return reg
        if is_flag(v) and v.offset in FLAGS:
            return FLAGS[v.offset]
        base = gpr_base(v)
        if base is not None and base in GPR:
            whole = (v.offset, v.size) == (base, 8) or self._clobbers(v)
            return GPR[base] if whole else self._temp()
        if v == RSP:
            return self._temp()  # static: the analysis knows the value
        if (_xmm_lane(v) is not None or v.space == RAM) and v.size <= 8:
            return self._temp()
        raise Refusal(f"writes unsupported register {v} in {self._text()}", self._addr())

    def _commit(self, v: Var, reg: str) -> None:
        lane = _xmm_lane(v)
        if lane is not None:
            vreg, index = lane
            wide = "x" if v.size == 8 else "w"
            self.lines.append(f"\tins\t{vreg}.{LANES[v.size]}[{index}], {wide}{reg[1:]}")
            return
        if v.space == RAM:
            address = self._temp()
            self._const(address, v.offset)
            self.lines.append(f"\t{_store_insn(v.size)}\t{_sized(reg, v.size)}, [{address}]")
            return
        base = gpr_base(v)
        if base is None or base not in GPR or (v.offset, v.size) == (base, 8):
            return
        if reg == GPR[base]:
            return  # computed into the whole register (see ``_clobbers``)
        self.lines.append(f"\tbfi\t{GPR[base]}, {reg}, #{8 * (v.offset - base)}, #{8 * v.size}")

    # --- ops -------------------------------------------------------------------------------

    def _op_copy(self, op: Op) -> None:
        assert op.out is not None
        if op.out == RSP:
            return
        lane, source_lane = _xmm_lane(op.out), _xmm_lane(op.ins[0])
        if lane is not None and source_lane is not None and self._text().startswith(WHOLE_MOVES):
            # movaps/movapd/movdqa xmm, xmm: one vector move (p-code copies lane by lane).
            if op.out.offset % XMM_STRIDE == 0:
                self.lines.append(f"\tmov\t{lane[0]}.16b, {source_lane[0]}.16b")
            return
        dst = self._dst(op.out)
        src = op.ins[0]
        if src.space == CONST:
            self._const(dst, self._constant(src) & (0xFFFFFFFF if op.extra == "w32" else MASK64))
            self._zero_extended = op.extra == "w32"
        elif op.extra == "w32":
            self.lines.append(f"\tmov\t{_width(dst, 4)}, {_width(self.val(src), 4)}")
            self._zero_extended = True
        else:
            reg = self.val(src)
            if reg != dst:
                self.lines.append(f"\tmov\t{dst}, {reg}")
        self._commit(op.out, dst)

    def _binary(self, op: Op, mnemonic: str) -> None:
        assert op.out is not None
        if op.out == RSP:
            return
        left, right = op.ins
        w = (lambda r: _width(r, 4)) if op.extra == "w32" else (lambda r: r)
        self._zero_extended = op.extra == "w32"
        if left == right and mnemonic in ("eor", "sub"):  # xor %eax, %eax
            dst = self._dst(op.out)
            self.lines.append(f"\tmov\t{w(dst)}, {w('xzr')}")
            self._commit(op.out, dst)
            return
        if left.space == CONST and right.space != CONST and mnemonic in COMMUTATIVE:
            left, right = right, left
        a = self.val(left)
        if right.space == CONST and self._symbolic(self._constant(right)) is None:
            immediate = self._immediate(mnemonic, self._constant(right), right.size)
            if immediate is not None and (op.extra != "w32" or immediate[1] < 1 << 32):
                dst = self._dst(op.out)
                if op.extra == "w32" and immediate[0] in ("and", "orr", "eor"):
                    self._zero_extended = _logical_immediate32(immediate[1] & 0xFFFFFFFF)
                    if not self._zero_extended:
                        self.lines.append(f"\t{immediate[0]}\t{dst}, {a}, #{immediate[1]}")
                        self._commit(op.out, dst)
                        return
                    value = immediate[1] & 0xFFFFFFFF
                    self.lines.append(f"\t{immediate[0]}\t{w(dst)}, {w(a)}, #{value}")
                else:
                    self.lines.append(f"\t{immediate[0]}\t{w(dst)}, {w(a)}, #{immediate[1]}")
                self._commit(op.out, dst)
                return
        b = self.val(right)
        dst = self._dst(op.out)
        self.lines.append(f"\t{mnemonic}\t{w(dst)}, {w(a)}, {w(b)}")
        self._commit(op.out, dst)

    @staticmethod
    def _immediate(mnemonic: str, value: int, size: int) -> tuple[str, int] | None:
        """(mnemonic, immediate) doing the same to the low ``size`` bytes, if one encodes."""
        signed = signed_value(value, size)
        if mnemonic in ("add", "sub"):
            if 0 <= signed < 4096:
                return mnemonic, signed
            if -4096 < signed < 0:
                return ("sub" if mnemonic == "add" else "add"), -signed
            return None
        if mnemonic in ("and", "orr", "eor"):
            for candidate in (value & MASK64, signed & MASK64):
                if _logical_immediate(candidate):
                    return mnemonic, candidate
            return None
        if mnemonic == "mul" and value and value & (value - 1) == 0:
            return "lsl", value.bit_length() - 1
        return None

    def _op_bool_negate(self, op: Op) -> None:
        assert op.out is not None
        a = self.val(op.ins[0])
        dst = self._dst(op.out)
        self.lines.append(f"\teor\t{dst}, {a}, #1")
        self._commit(op.out, dst)

    def _extend(self, reg: str, size: int, signed: bool, into: str | None = None) -> str:
        """``reg``'s low ``size`` bytes extended to 64 bits (in a fresh register)."""
        if size >= 8:
            if into is not None and into != reg:
                self.lines.append(f"\tmov\t{into}, {reg}")
            return into or reg
        out = into or self._temp()
        kind = "sbfx" if signed else "ubfx"
        self.lines.append(f"\t{kind}\t{out}, {reg}, #0, #{8 * size}")
        return out

    def _op_int_zext(self, op: Op) -> None:
        assert op.out is not None
        a = self.val(op.ins[0])
        dst = self._dst(op.out)
        self._extend(a, op.ins[0].size, False, dst)
        self._commit(op.out, dst)

    def _op_int_sext(self, op: Op) -> None:
        assert op.out is not None
        a = self.val(op.ins[0])
        dst = self._dst(op.out)
        self._extend(a, op.ins[0].size, True, dst)
        self._commit(op.out, dst)

    def _compare(self, op: Op, cond: str, signed: bool) -> None:
        assert op.out is not None
        self._flags_for(op.ins[0], op.ins[1], signed)
        dst = self._dst(op.out)
        self.lines.append(f"\tcset\t{dst}, {cond}")
        self._commit(op.out, dst)

    def _flags_for(self, left: Var, right: Var, signed: bool) -> None:
        """``cmp`` of two values at their width: 32 and 64-bit ones directly (w or x
        registers), narrower ones extended; small constants as immediates."""
        size = left.size
        if size in (4, 8):
            a = self.val(left)
            if right.space == CONST and self._symbolic(self._constant(right)) is None:
                value = signed_value(self._constant(right), size)
                if 0 <= value < 4096:
                    self.lines.append(f"\tcmp\t{_width(a, size)}, #{value}")
                    return
                if -4096 < value < 0:
                    self.lines.append(f"\tcmn\t{_width(a, size)}, #{-value}")
                    return
            b = self.val(right)
            self.lines.append(f"\tcmp\t{_width(a, size)}, {_width(b, size)}")
            return
        a = self._extend(self.val(left), size, signed)
        if right.space == CONST and self._symbolic(self._constant(right)) is None:
            value = self._constant(right)
            value = signed_value(value, size) if signed else value
            if -4096 < value < 4096:
                self.lines.append(f"\t{'cmp' if value >= 0 else 'cmn'}\t{a}, #{abs(value)}")
                return
        extension = f"{'s' if signed else 'u'}xt{'b' if size == 1 else 'h'}"
        self.lines.append(f"\tcmp\t{a}, {_width(self.val(right), 4)}, {extension}")

    def _op_int_equal(self, op: Op) -> None:
        self._compare(op, "eq", False)

    def _op_int_notequal(self, op: Op) -> None:
        self._compare(op, "ne", False)

    def _op_int_less(self, op: Op) -> None:
        self._compare(op, "lo", False)

    def _op_int_lessequal(self, op: Op) -> None:
        self._compare(op, "ls", False)

    def _op_int_sless(self, op: Op) -> None:
        self._compare(op, "lt", True)

    def _op_int_slessequal(self, op: Op) -> None:
        self._compare(op, "le", True)

    def _op_int_carry(self, op: Op) -> None:
        """Unsigned overflow of a + b at the operands' width."""
        assert op.out is not None
        size = op.ins[0].size
        a = self._extend(self.val(op.ins[0]), size, False)
        b = self._extend(self.val(op.ins[1]), size, False)
        dst = self._dst(op.out)
        if size == 8:
            self.lines.append(f"\tcmn\t{a}, {b}")
            self.lines.append(f"\tcset\t{dst}, cs")
        else:
            sum_ = self._temp()
            self.lines.append(f"\tadd\t{sum_}, {a}, {b}")
            a = sum_
            self.lines.append(f"\tubfx\t{dst}, {a}, #{8 * size}, #1")
        self._commit(op.out, dst)

    def _signed_overflow(self, op: Op, mnemonic: str) -> None:
        assert op.out is not None
        size = op.ins[0].size
        a = self._extend(self.val(op.ins[0]), size, True)
        b = self._extend(self.val(op.ins[1]), size, True)
        dst = self._dst(op.out)
        if size == 8:
            self.lines.append(f"\t{mnemonic}s\txzr, {a}, {b}")
            self.lines.append(f"\tcset\t{dst}, vs")
        else:
            # Exact in 64 bits: overflow iff the result does not survive narrowing.
            wide, narrow = self._temp(), self._temp()
            self.lines.append(f"\t{mnemonic}\t{wide}, {a}, {b}")
            self.lines.append(f"\tsbfx\t{narrow}, {wide}, #0, #{8 * size}")
            self.lines.append(f"\tcmp\t{wide}, {narrow}")
            self.lines.append(f"\tcset\t{dst}, ne")
        self._commit(op.out, dst)

    def _shift(self, op: Op, mnemonic: str, signed: bool | None) -> None:
        """p-code shifts: an amount of the width or more gives 0 (or all sign bits)."""
        assert op.out is not None
        size = op.ins[0].size
        if op.ins[1].space == CONST and size == 4 and self._constant(op.ins[1]) < 32:
            # The 32-bit forms see only the low half and zero the upper one.
            a = self.val(op.ins[0])
            dst = self._dst(op.out)
            count = self._constant(op.ins[1])
            self.lines.append(f"\t{mnemonic}\t{_width(dst, 4)}, {_width(a, 4)}, #{count}")
            self._zero_extended = True
            self._commit(op.out, dst)
            return
        a = self.val(op.ins[0])
        if signed is not None:
            a = self._extend(a, size, signed)
        if op.ins[1].space == CONST:
            count = self._constant(op.ins[1])
            dst = self._dst(op.out)
            if count >= 64 and not signed:
                self.lines.append(f"\tmov\t{dst}, xzr")
            else:
                self.lines.append(f"\t{mnemonic}\t{dst}, {a}, #{min(count, 63)}")
            self._commit(op.out, dst)
            return
        amount = self._extend(self.val(op.ins[1]), op.ins[1].size, False)
        dst = self._dst(op.out)
        limit = 64 if signed is not None else 8 * size
        self.lines.append(f"\t{mnemonic}\t{dst}, {a}, {amount}")
        self.lines.append(f"\tcmp\t{amount}, #{min(limit, 4095)}")
        fill = "xzr"
        if signed:
            fill = self._temp()
            self.lines.append(f"\tasr\t{fill}, {a}, #63")
        self.lines.append(f"\tcsel\t{dst}, {dst}, {fill}, lo")
        self._commit(op.out, dst)

    def _op_int_left(self, op: Op) -> None:
        self._shift(op, "lsl", None)

    def _op_int_right(self, op: Op) -> None:
        self._shift(op, "lsr", False)

    def _op_int_sright(self, op: Op) -> None:
        self._shift(op, "asr", True)

    def _divide(self, op: Op, signed: bool, remainder: bool) -> None:
        assert op.out is not None and self._insn is not None
        size = op.ins[0].size
        if size > 8:
            raise Refusal(f"unsupported: 128-bit division in {self._text()}", self._addr())
        a = self._extend(self.val(op.ins[0]), size, signed)
        b = self._extend(self.val(op.ins[1]), op.ins[1].size, signed)
        dst = self._dst(op.out)
        # x86 raises #DE for a zero divisor; the port must stop the same way.
        self.lines.append(f"\tcbnz\t{b}, 1f")
        self.lines.append("\tbrk\t#0")
        self.lines.append("1:")
        kind = "sdiv" if signed else "udiv"
        if remainder:
            q = self._temp()
            self.lines.append(f"\t{kind}\t{q}, {a}, {b}")
            self.lines.append(f"\tmsub\t{dst}, {q}, {b}, {a}")
        else:
            self.lines.append(f"\t{kind}\t{dst}, {a}, {b}")
            if op.extra == "x86div64" and signed:
                # INT64_MIN / -1 does not fit: #DE on x86.
                t = self._temp()
                self.lines += [f"\tcmn\t{b}, #1", "\tb.ne\t1f", f"\tneg\t{t}, {a}",
                               f"\tcmp\t{t}, {a}", "\tb.ne\t1f", f"\tcbz\t{a}, 1f",
                               "\tbrk\t#0", "1:"]  # fmt: skip
            elif op.extra != "x86div64" and self._text().startswith(("DIV", "IDIV")):
                # x86 also raises #DE when the quotient does not fit the destination.
                half = size // 2
                fitted = self._extend(dst, half, signed)
                self.lines += [f"\tcmp\t{fitted}, {dst}", "\tb.eq\t1f", "\tbrk\t#0", "1:"]
        self._commit(op.out, dst)

    def _op_subpiece(self, op: Op) -> None:
        assert op.out is not None
        a = self.val(op.ins[0])
        shift = 8 * op.ins[1].offset
        dst = self._dst(op.out)
        if shift >= 64:
            raise Refusal(f"unsupported: wide value in {self._text()}", self._addr())
        if op.extra == "w32" and not shift:
            self.lines.append(f"\tmov\t{_width(dst, 4)}, {_width(a, 4)}")
            self._zero_extended = True
        else:
            self.lines.append(f"\tlsr\t{dst}, {a}, #{shift}" if shift else f"\tmov\t{dst}, {a}")
        self._commit(op.out, dst)

    def _op_piece(self, op: Op) -> None:
        assert op.out is not None
        if op.out.size > 8:
            raise Refusal(f"unsupported: 128-bit value in {self._text()}", self._addr())
        hi = self.val(op.ins[0])
        lo = self._extend(self.val(op.ins[1]), op.ins[1].size, False)
        dst = self._dst(op.out)
        self.lines.append(f"\torr\t{dst}, {lo}, {hi}, lsl #{8 * op.ins[1].size}")
        self._commit(op.out, dst)

    def _op_popcount(self, op: Op) -> None:
        assert op.out is not None
        a = self._extend(self.val(op.ins[0]), op.ins[0].size, False)
        dst = self._dst(op.out)
        self.lines += [f"\tfmov\td31, {a}", "\tcnt\tv31.8b, v31.8b", "\taddv\tb31, v31.8b",
                       f"\tfmov\t{(dst[0] == 'x' and 'w' + dst[1:]) or dst}, s31"]  # fmt: skip
        self._commit(op.out, dst)

    def _op_load(self, op: Op) -> None:
        assert op.out is not None
        size = op.out.size
        loaded = int(op.extra[4:]) if op.extra[:4] in ("sext", "zext") else size
        address = self._address(op.ins[1], op.disp, loaded, op)
        if self._fp_only(op):
            # Read only by FP arithmetic: loaded straight into the FP scratch register.
            fp = f"{_fp_kind(size)}{FP_SCRATCH[1]}"
            self.lines.append(f"\tldr\t{fp}, {address}")
            self._temps[op.out] = fp
            self._aliases.add(op.out)  # not a general register: never back to the pool
            return
        dst = self._dst(op.out)
        if size > 8:
            raise Refusal(f"unsupported: {8 * size}-bit load in {self._text()}", self._addr())
        if op.extra.startswith("sext"):  # a load fused with its sign extension
            loaded = int(op.extra[4:])
            mnemonic = {1: "ldrsb", 2: "ldrsh", 4: "ldrsw"}[loaded]
            self.lines.append(f"\t{mnemonic}\t{dst}, {address}")
        else:  # plain, or fused with a zero extension (narrow loads zero-extend)
            loaded = int(op.extra[4:]) if op.extra.startswith("zext") else size
            mnemonic, reg = {1: ("ldrb", "w"), 2: ("ldrh", "w"), 4: ("ldr", "w"),
                             8: ("ldr", "x")}[loaded]  # fmt: skip
            self.lines.append(f"\t{mnemonic}\t{reg}{dst[1:]}, {address}")
        self._commit(op.out, dst)

    def _op_store(self, op: Op) -> None:
        address = self._address(op.ins[1], op.disp, op.ins[2].size, op)
        value = op.ins[2]
        size = value.size
        if size > 8:
            raise Refusal(f"unsupported: {8 * size}-bit store in {self._text()}", self._addr())
        src = "xzr" if value.space == CONST and self._constant(value) == 0 else self.val(value)
        mnemonic = {1: "strb", 2: "strh", 4: "str", 8: "str"}[size]
        reg = ("w" if size < 8 else "x") + src[1:]
        self.lines.append(f"\t{mnemonic}\t{reg}, {address}")

    def _address(self, v: Var, disp: int = 0, size: int = 8, op: Op | None = None) -> str:
        """A memory operand for address ``v + disp`` (stack addresses fold into sp), plus the
        scaled index register ``op`` carries."""
        if v == RSP:
            base, offset = "sp", self._rsp_offset() + disp
        else:
            base, offset = self.val(v), disp
        if op is not None and op.index is not None:
            index = self.val(op.index)
            if offset:
                moved = self._temp()
                self._add_imm(moved, base, offset)
                base = moved
            shift = f", lsl #{op.scale}" if op.scale else ""
            return f"[{base}, {index}{shift}]"
        if -256 <= offset < 256 or (0 <= offset < 4096 * size and offset % size == 0):
            return f"[{base}, #{offset}]" if offset else f"[{base}]"
        reg = self._temp()
        self._add_imm(reg, base, offset)
        return f"[{reg}]"

    def _branch_target(self, v: Var) -> str:
        if v.space != RAM:
            raise Refusal(f"unsupported branch in {self._text()}", self._addr())
        return self.naming.label(v.offset)

    def _op_branch(self, op: Op) -> None:
        assert self._insn is not None
        target = op.ins[0]
        if target.space == CONST:
            index = self._op_index(op) + signed_value(target.offset, 8)
            self.lines.append(f"\tb\t.Lp{self._insn.address:x}_{index}")
            return
        if target.offset in self.facts.blocks:
            self.lines.append(f"\tb\t{self.naming.label(target.offset)}")
            return
        # A jump out of the function: a tail call with the x86 stack as at entry.
        if self.facts.rsp_delta[self._insn.address] != 0:
            raise Refusal(f"jump out of the function with a frame in {self._text()}", self._addr())
        self.lines += self._unwind()
        self.lines.append(f"\tb\t{self._callee(target.offset)}")

    def _op_cbranch(self, op: Op) -> None:
        assert self._insn is not None
        cond = self.val(op.ins[1])
        target = op.ins[0]
        if target.space == CONST:
            index = self._op_index(op) + signed_value(target.offset, 8)
            self.lines.append(f"\ttbnz\t{cond}, #0, .Lp{self._insn.address:x}_{index}")
            return
        if target.offset not in self.facts.blocks:
            raise Refusal(f"conditional jump out of the function in {self._text()}", self._addr())
        self.lines.append(f"\ttbnz\t{cond}, #0, {self.naming.label(target.offset)}")

    def _op_branchind(self, op: Op) -> None:
        if not self.facts.indirect_targets:
            raise Refusal(f"indirect jump with unknown targets in {self._text()}", self._addr())
        self.lines.append(f"\tbr\t{self.val(op.ins[0])}")

    def _op_call(self, op: Op) -> None:
        self.lines.append(f"\tbl\t{self._callee(op.ins[0].offset)}")
        self.lines.append(f"\tmov\t{RETURN_REG}, x0")

    def _op_callind(self, op: Op) -> None:
        target = self.val(op.ins[0])
        self.lines.append(f"\tblr\t{target}")
        self.lines.append(f"\tmov\t{RETURN_REG}, x0")

    # --- 128-bit (XMM) values ---------------------------------------------------------------
    def _vval(self, v: Var) -> str:
        whole = _xmm_whole(v)
        if whole is not None:
            return whole
        if v.space == TMP and v in self._temps:
            return self._temps[v]
        if v.space == CONST and v.offset == 0:
            reg = self._vtemp()
            self.lines.append(f"\tmovi\t{reg}.2d, #0")
            return reg
        raise Refusal(f"unsupported 128-bit operand {v} in {self._text()}", self._addr())

    def _vtemp(self) -> str:
        free = [r for r in VECTOR_TEMPS if r not in self._temps.values() and r not in self._scratch]
        if not free:
            raise Refusal(f"too many live vector values in {self._text()}", self._addr())
        self._scratch.append(free[0])
        return free[0]

    def _vdst(self, v: Var) -> str:
        whole = _xmm_whole(v)
        if whole is not None:
            return whole
        if v.space == TMP:
            reg = self._temps.get(v) or self._vtemp()
            self._temps[v] = reg
            return reg
        raise Refusal(f"unsupported 128-bit result {v} in {self._text()}", self._addr())

    def _wide(self, op: Op) -> None:
        out = op.out
        code = op.code
        if code == "STORE":
            address = self._address(op.ins[1], op.disp, 16)
            self.lines.append(f"\tstr\tq{self._vval(op.ins[2])[1:]}, {address}")
            return
        if out is None or out.size != 16:
            if code == "SUBPIECE" and out is not None and op.ins[0].size == 16:
                shift = op.ins[1].offset
                if shift % out.size or out.size > 8:
                    raise Refusal(f"unsupported lane extract in {self._text()}", self._addr())
                src = self._vval(op.ins[0])
                dst = self._dst(out)
                self.lines.append(
                    f"\tumov\t{_sized(dst, out.size)}, {src}.{LANES[out.size]}[{shift // out.size}]"
                )
                self._commit(out, dst)
                return
            raise Refusal(f"unsupported: 128-bit {code} in {self._text()}", self._addr())
        if code == "LOAD":
            address = self._address(op.ins[1], op.disp, 16)
            dst = self._vdst(out)
            self.lines.append(f"\tldr\tq{dst[1:]}, {address}")
            return
        if code == "COPY":
            src = self._vval(op.ins[0])
            dst = self._vdst(out)
            if src != dst:
                self.lines.append(f"\tmov\t{dst}.16b, {src}.16b")
            return
        if code in ("INT_XOR", "INT_AND", "INT_OR"):
            a, b = self._vval(op.ins[0]), self._vval(op.ins[1])
            dst = self._vdst(out)
            mnemonic = {"INT_XOR": "eor", "INT_AND": "and", "INT_OR": "orr"}[code]
            self.lines.append(f"\t{mnemonic}\t{dst}.16b, {a}.16b, {b}.16b")
            return
        if code == "INT_NEGATE":
            a = self._vval(op.ins[0])
            dst = self._vdst(out)
            self.lines.append(f"\tmvn\t{dst}.16b, {a}.16b")
            return
        if code == "INT_ZEXT" and op.ins[0].size in (4, 8):
            src = self.val(op.ins[0])
            dst = self._vdst(out)
            kind = "d" if op.ins[0].size == 8 else "s"
            self.lines.append(f"\tfmov\t{kind}{dst[1:]}, {_sized(src, op.ins[0].size)}")
            return
        if code == "PIECE" and op.ins[0].size == 8 and op.ins[1].size == 8:
            hi, lo = self.val(op.ins[0]), self.val(op.ins[1])
            dst = self._vdst(out)
            self.lines.append(f"\tfmov\td{dst[1:]}, {lo}")
            self.lines.append(f"\tins\t{dst}.d[1], {hi}")
            return
        raise Refusal(f"unsupported: 128-bit {code} in {self._text()}", self._addr())

    # --- scalar floating point -----------------------------------------------------------
    def _fp_only(self, load: Op) -> bool:
        """Whether a plain 4/8-byte load's temporary is read once, by an FP operation that
        takes it from ``FP_SCRATCH[1]`` as it is."""
        out = load.out
        if out is None or out.space != TMP or out.size not in (4, 8) or load.extra:
            return False
        users = [op for op in self._ops if out in op.ins]
        if len(users) != 1 or users[0].code not in FP_OPERAND_USERS:
            return False
        # Any other operand must not need FP_SCRATCH[1] itself: a low XMM lane is read as is.
        others = [v for v in users[0].ins if v != out]
        return all((lane := _xmm_lane(v)) is not None and lane[1] == 0 for v in others)

    def _to_fp(self, v: Var, scratch: str) -> str:
        """An FP register holding ``v`` (read only): the low lane of an XMM register is its
        vector register's s or d view as it is."""
        kind = _fp_kind(v.size)
        held = self._temps.get(v, "") if v.space == TMP else ""
        if held[:1] in ("s", "d"):
            return held
        lane = _xmm_lane(v)
        if lane is not None and lane[1] == 0 and v.size in (4, 8):
            return f"{kind}{lane[0][1:]}"
        reg = self.val(v)
        self.lines.append(f"\tfmov\t{kind}{scratch}, {_sized(reg, v.size)}")
        return f"{kind}{scratch}"

    def _from_fp(self, out: Var, fp: str) -> None:
        lane = _xmm_lane(out)
        if lane is not None and lane[1] == 0 and out.size in (4, 8):
            # One lane insert: the XMM register's other lanes stay as x86 leaves them.
            kind = LANES[out.size]
            self.lines.append(f"\tmov\t{lane[0]}.{kind}[0], v{fp[1:]}.{kind}[0]")
            return
        dst = self._dst(out)
        self.lines.append(f"\tfmov\t{_sized(dst, out.size)}, {fp}")
        self._commit(out, dst)

    def _fp_binary(self, op: Op, mnemonic: str) -> None:
        assert op.out is not None
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        b = self._to_fp(op.ins[1], FP_SCRATCH[1])
        result = f"{_fp_kind(op.out.size)}{FP_SCRATCH[0]}"
        self.lines.append(f"\t{mnemonic}\t{result}, {a}, {b}")
        self._from_fp(op.out, result)

    def _fp_unary(self, op: Op, mnemonic: str) -> None:
        assert op.out is not None
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        result = f"{_fp_kind(op.out.size)}{FP_SCRATCH[0]}"
        self.lines.append(f"\t{mnemonic}\t{result}, {a}")
        self._from_fp(op.out, result)

    def _fp_compare(self, op: Op, cond: str) -> None:
        assert op.out is not None
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        b = self._to_fp(op.ins[1], FP_SCRATCH[1])
        dst = self._dst(op.out)
        self.lines.append(f"\tfcmp\t{a}, {b}")
        self.lines.append(f"\tcset\t{dst}, {cond}")
        self._commit(op.out, dst)

    def _op_float_nan(self, op: Op) -> None:
        assert op.out is not None
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        dst = self._dst(op.out)
        self.lines.append(f"\tfcmp\t{a}, {a}")
        self.lines.append(f"\tcset\t{dst}, vs")
        self._commit(op.out, dst)

    def _op_float_int2float(self, op: Op) -> None:
        assert op.out is not None
        size = op.ins[0].size
        src = self._extend(self.val(op.ins[0]), size, True)
        fp = f"{_fp_kind(op.out.size)}{FP_SCRATCH[0]}"
        self.lines.append(f"\tscvtf\t{fp}, {src}")
        self._from_fp(op.out, fp)

    def _op_float_float2float(self, op: Op) -> None:
        assert op.out is not None
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        fp = f"{_fp_kind(op.out.size)}{FP_SCRATCH[1]}"
        self.lines.append(f"\tfcvt\t{fp}, {a}")
        self._from_fp(op.out, fp)

    def _op_float_trunc(self, op: Op) -> None:
        """x86 gives the "integer indefinite" (only the sign bit set) for NaN and for values
        out of range; AArch64 saturates, so those cases are patched to match."""
        assert op.out is not None
        bits = 8 * op.out.size
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        dst = self._dst(op.out)
        self.lines.append(f"\tfcvtzs\t{_sized(dst, op.out.size)}, {a}")
        limit = self._temp()
        power = float(2 ** (bits - 1))
        pattern = _float_bits(power, op.ins[0].size)
        self._const(limit, pattern)
        kind = _fp_kind(op.ins[0].size)
        self.lines.append(f"\tfmov\t{kind}{FP_SCRATCH[1]}, {_sized(limit, op.ins[0].size)}")
        self.lines.append(f"\tfcmp\t{a}, {kind}{FP_SCRATCH[1]}")
        self._const(limit, 1 << (bits - 1))
        self.lines.append(f"\tcsel\t{dst}, {dst}, {limit}, mi")
        self._commit(op.out, dst)

    def _compare_flags(self, condition: str, left: Var, right: Var, is_test: bool) -> str:
        """Set NZCV as x86's cmp/test would for ``condition``; the AArch64 condition to test."""
        if not is_test:
            self._flags_for(left, right, condition in SIGNED_CONDITIONS)
            return condition
        # x86 TEST clears CF and OF; tst clears C and V: signed conditions carry over, the
        # unsigned ones are read with CF = 0.
        condition = TEST_UNSIGNED.get(condition, condition)
        size = left.size
        if left.space == CONST:
            left, right = right, left
        a = self.val(left)
        mask = (1 << (8 * size)) - 1
        if right.space == CONST and self._symbolic(self._constant(right)) is None:
            value = self._constant(right) & mask
            if condition in ("eq", "ne") and _logical_immediate(value):
                # Only Z is read: the bits tested decide it at any width.
                self.lines.append(f"\ttst\t{a}, #{value}")
                return condition
        if size < 4 and right == left and condition in ("eq", "ne", "lt", "ge"):
            # Z from the low bits, or N (lt/ge after test is the sign) from the top one.
            bits = mask if condition in ("eq", "ne") else 1 << (8 * size - 1)
            self.lines.append(f"\ttst\t{a}, #{bits}")
            return {"lt": "ne", "ge": "eq"}.get(condition, condition)
        b = a if right == left else self.val(right)
        if size in (4, 8):
            self.lines.append(f"\ttst\t{_width(a, size)}, {_width(b, size)}")
        else:
            both = self._temp()
            self.lines.append(f"\tand\t{both}, {a}, {b}")
            self.lines.append(f"\tsbfx\t{both}, {both}, #0, #{8 * size}")
            self.lines.append(f"\tcmp\t{both}, #0")
        return condition

    def _compare_branch(
        self, condition: str, left: Var, right: Var, is_test: bool, label: str
    ) -> None:
        if is_test and TEST_UNSIGNED.get(condition) == "never":
            return
        if is_test and TEST_UNSIGNED.get(condition) == "always":
            self.lines.append(f"\tb\t{label}")
            return
        if is_test and left == right and condition in ("eq", "ne") and left.size in (4, 8):
            reg = _width(self.val(left), left.size)
            self.lines.append(f"\t{'cbz' if condition == 'eq' else 'cbnz'}\t{reg}, {label}")
            return
        cond = self._compare_flags(condition, left, right, is_test)
        self.lines.append(f"\tb.{cond}\t{label}")

    def _compare_set(self, condition: str, left: Var, right: Var, is_test: bool, dest: Var) -> None:
        cond = self._compare_flags(condition, left, right, is_test)
        dst = self._dst(dest)
        self.lines.append(f"\tcset\t{_width(dst, 4)}, {cond}")
        self._commit(dest, dst)

    def _compare_select(
        self, condition: str, left: Var, right: Var, is_test: bool, dest: Var, source: Var
    ) -> None:
        cond = self._compare_flags(condition, left, right, is_test)
        base = gpr_base(dest)
        assert base is not None
        target, src = _width(GPR[base], dest.size), _width(self.val(source), dest.size)
        self.lines.append(f"\tcsel\t{target}, {src}, {target}, {cond}")

    def _op_return(self, op: Op) -> None:
        assert self._insn is not None
        if self.facts.rsp_delta[self._insn.address] != 0:
            raise Refusal(
                f"return with the stack not at its entry depth in {self._text()}", self._addr()
            )
        self.lines += self._epilogue()
        self.lines.append("\tret")


COMMUTATIVE = {"add", "mul", "and", "orr", "eor"}
FP_OPERAND_USERS = {"FLOAT_ADD", "FLOAT_SUB", "FLOAT_MULT", "FLOAT_DIV", "FLOAT_SQRT",
                    "FLOAT_EQUAL", "FLOAT_NOTEQUAL", "FLOAT_LESS", "FLOAT_LESSEQUAL",
                    "FLOAT_NAN", "FLOAT_FLOAT2FLOAT"}  # fmt: skip
"""FP ops whose operands go through ``_to_fp`` and that leave ``FP_SCRATCH[1]`` unwritten
until they have read them."""
SIGNED_CONDITIONS = {"lt", "ge", "gt", "le"}
TEST_UNSIGNED = {"lo": "never", "hs": "always", "hi": "ne", "ls": "eq"}


def _logical_immediate32(value: int) -> bool:
    """A bitmask immediate for a 32-bit (w register) instruction: the 32-bit pattern repeated
    must encode as a 64-bit one."""
    return _logical_immediate(value | (value << 32))


def _width(reg: str, size: int) -> str:
    """The w form of an x register for 32-bit operations."""
    return "w" + reg[1:] if size == 4 and reg.startswith("x") else reg


def _logical_immediate(value: int) -> bool:
    """Whether AArch64 can encode ``value`` as a bitmask immediate: a rotated run of ones
    repeated across the register in elements of 2, 4, ..., 64 bits."""
    if value in (0, MASK64):
        return False
    size = 64
    while size > 2:
        half = size // 2
        mask = (1 << half) - 1
        if (value & mask) != ((value >> half) & mask):
            break
        size = half
    element = value & ((1 << size) - 1)
    # A rotated run of ones has exactly one 0->1 and one 1->0 transition, cyclically.
    rotated = (element >> 1) | ((element & 1) << (size - 1))
    transitions = bin(element ^ rotated).count("1")
    return transitions == 2


def _xmm_lane(v: Var) -> tuple[str, int] | None:
    """(vector register, lane index) of an XMM register lane of 1-8 bytes."""
    if v.space != REG or not XMM_BASE <= v.offset < XMM_BASE + 16 * XMM_STRIDE or v.size > 8:
        return None
    number, byte = divmod(v.offset - XMM_BASE, XMM_STRIDE)
    if byte + v.size > 16 or byte % v.size:
        return None
    return _vreg(number), byte // v.size


def _xmm_whole(v: Var) -> str | None:
    if v.space != REG or v.size != 16 or not XMM_BASE <= v.offset < XMM_BASE + 16 * XMM_STRIDE:
        return None
    number, byte = divmod(v.offset - XMM_BASE, XMM_STRIDE)
    return _vreg(number) if byte == 0 else None


def _vreg(number: int) -> str:
    """xmm0-7 are the FP argument registers v0-v7; xmm8-15 go to caller-saved v16-v23."""
    return f"v{number if number < 8 else number + 8}"


def _fp_kind(size: int) -> str:
    if size not in (4, 8):
        raise Refusal(f"unsupported: {8 * size}-bit floating point")
    return "s" if size == 4 else "d"


def _float_bits(value: float, size: int) -> int:
    import struct

    fmt = ("<f", "<I") if size == 4 else ("<d", "<Q")
    return int(struct.unpack(fmt[1], struct.pack(fmt[0], value))[0])


def _sized(reg: str, size: int) -> str:
    return ("x" if size == 8 else "w") + reg[1:]


def _load_insn(size: int) -> str:
    return {1: "ldrb", 2: "ldrh", 4: "ldr", 8: "ldr"}[size]


def _store_insn(size: int) -> str:
    return {1: "strb", 2: "strh", 4: "str", 8: "str"}[size]


def _sp_adjust(kind: str, amount: int) -> list[str]:
    if amount == 0:
        return []
    out = []
    high, low = amount >> 12, amount & 0xFFF
    if high:
        out.append(f"\t{kind}\tsp, sp, #{high}, lsl #12")
    if low:
        out.append(f"\t{kind}\tsp, sp, #{low}")
    return out


def _store_at_sp(reg: str, offset: int) -> list[str]:
    return [f"\tstr\t{reg}, [sp, #{offset}]"]


def _load_at_sp(reg: str, offset: int) -> list[str]:
    return [f"\tldr\t{reg}, [sp, #{offset}]"]
