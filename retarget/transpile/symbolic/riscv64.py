"""RV64GC code for one x86-64 function's p-code.

x86 registers live in fixed RISC-V registers (rdi=a0 ... r9=a5, rax=a6; rbx, rbp, r12-r15 =
s1-s6). The stack pointer is static, as on AArch64: every RSP value is ``sp + constant``.
Values narrower than 64 bits sit in the low bits of a register with the upper bits unspecified;
operations that care extend first. An XMM register is its low 64 bits in an FP register
(xmm0-7 = fa0-fa7, xmm8-15 = ft0-ft7): reading its upper half is refused, and single-precision
writes NaN-box as the RISC-V ABI requires of a float in an FP register.
"""

from __future__ import annotations

import struct
from typing import ClassVar

from retarget.transpile.symbolic.analysis import RSP, Refusal, gpr_base, is_flag
from retarget.transpile.symbolic.lift import CONST, RAM, REG, TMP, Insn, Op, Var, register
from retarget.transpile.symbolic.lowering import RESTORE_MARK, WHOLE_MOVES, Lowering
from retarget.transpile.symbolic.passes import signed_value

GPR = {0x00: "a6", 0x08: "a3", 0x10: "a2", 0x18: "s1", 0x28: "s2", 0x30: "a1", 0x38: "a0",
       0x80: "a4", 0x88: "a5", 0x90: "a7", 0x98: "t3", 0xA0: "s3", 0xA8: "s4", 0xB0: "s5",
       0xB8: "s6"}  # fmt: skip
FLAGS = {0x200: "s7", 0x202: "s11", 0x204: "s0", 0x206: "s8", 0x207: "s9", 0x20B: "s10"}
FLAG_SAVED = ("s7", "s8", "s9", "s10", "s11", "s0")
CALLER_TEMPS = ("t0", "t1", "t2", "t4", "t5", "t6")
SAVED_TEMPS: tuple[str, ...] = ()
XMM_BASE = 0x1200
XMM_STRIDE = 0x40
FP_SCRATCH = ("ft10", "ft11")
FS_OFFSET = register("FS_OFFSET")
RETURN_REG = "a6"
SAVE_SLOTS = (*SAVED_TEMPS, *FLAG_SAVED)
INVERSE = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "gt": "le", "le": "gt",
           "lo": "hs", "hs": "lo", "hi": "ls", "ls": "hi"}  # fmt: skip


def _xmm(v: Var) -> tuple[str, int] | None:
    """(FP register, byte offset) of an XMM register varnode."""
    if v.space != REG or not XMM_BASE <= v.offset < XMM_BASE + 16 * XMM_STRIDE:
        return None
    number, byte = divmod(v.offset - XMM_BASE, XMM_STRIDE)
    return (f"fa{number}" if number < 8 else f"ft{number - 8}"), byte


def _fp_suffix(size: int) -> str:
    if size not in (4, 8):
        raise Refusal(f"unsupported: {8 * size}-bit floating point")
    return "s" if size == 4 else "d"


def _move_to_fp(size: int) -> str:
    return "fmv.w.x" if size == 4 else "fmv.d.x"


def _move_from_fp(size: int) -> str:
    return "fmv.x.w" if size == 4 else "fmv.x.d"


def _float_bits(value: float, size: int) -> int:
    fmt = ("<f", "<I") if size == 4 else ("<d", "<Q")
    return int(struct.unpack(fmt[1], struct.pack(fmt[0], value))[0])


class RV64Function(Lowering):
    """RV64GC instruction selection for each p-code op."""

    CALLER_TEMPS: ClassVar[tuple[str, ...]] = CALLER_TEMPS
    SAVED_TEMPS: ClassVar[tuple[str, ...]] = SAVED_TEMPS

    DISPATCH: ClassVar[dict[str, tuple[str, str]]] = {
        "INT_ADD": ("_binary", "add"),
        "INT_SUB": ("_binary", "sub"),
        "INT_MULT": ("_binary", "mul"),
        "INT_AND": ("_binary", "and"),
        "INT_OR": ("_binary", "or"),
        "INT_XOR": ("_binary", "xor"),
        "BOOL_AND": ("_binary", "and"),
        "BOOL_OR": ("_binary", "or"),
        "BOOL_XOR": ("_binary", "xor"),
        "INT_2COMP": ("_unary", "neg"),
        "INT_NEGATE": ("_unary", "not"),
        "INT_EQUAL": ("_equality", "seqz"),
        "INT_NOTEQUAL": ("_equality", "snez"),
        "INT_LEFT": ("_shift", "sll"),
        "INT_RIGHT": ("_shift", "srl"),
        "INT_SRIGHT": ("_shift", "sra"),
        "INT_MULHU": ("_binary", "mulhu"),
        "INT_MULHS": ("_binary", "mulh"),
        "FLOAT_ADD": ("_fp_binary", "fadd"),
        "FLOAT_SUB": ("_fp_binary", "fsub"),
        "FLOAT_MULT": ("_fp_binary", "fmul"),
        "FLOAT_DIV": ("_fp_binary", "fdiv"),
        "FLOAT_NEG": ("_fp_unary", "fneg"),
        "FLOAT_ABS": ("_fp_unary", "fabs"),
        "FLOAT_SQRT": ("_fp_unary", "fsqrt"),
        "FLOAT_EQUAL": ("_fp_compare", "feq"),
        "FLOAT_LESS": ("_fp_compare", "flt"),
        "FLOAT_LESSEQUAL": ("_fp_compare", "fle"),
    }
    """p-code ops that are one helper call with a mnemonic: (helper, mnemonic)."""

    # --- frame -----------------------------------------------------------------------------
    def _frame_size(self) -> int:
        return (8 - self.facts.lowest + 8 * len(SAVE_SLOTS) + 15) & ~15

    def _prologue(self) -> list[str]:
        if not self.frame_needed:
            return []
        out = self._sp_adjust(-self._frame_size())
        for reg in self.saved:
            out.append(f"\tsd\t{reg}, {8 * SAVE_SLOTS.index(reg)}(sp)")
        if self.facts.calls:
            out += self._at_sp("sd", "ra", self._frame_size() - 8)
        return out

    def _epilogue(self) -> list[str]:
        return [*self._return_value(), *self._unwind()]

    def _unwind(self) -> list[str]:
        """Restore what the prologue saved and drop the frame (filled in after the body)."""
        return [RESTORE_MARK]

    def _restore(self) -> list[str]:
        if not self.frame_needed:
            return []
        out = [f"\tld\t{reg}, {8 * SAVE_SLOTS.index(reg)}(sp)" for reg in self.saved]
        if self.facts.calls:
            out += self._at_sp("ld", "ra", self._frame_size() - 8)
        return out + self._sp_adjust(self._frame_size())

    def _return_value(self) -> list[str]:
        """rax to a0 as the LP64D ABI wants it: 32-bit values sign-extended, narrower ones
        extended by their type, a float NaN-boxed in fa0."""
        kind = self.returns or self._inferred_return()
        if kind == "f32":
            return ["\tfmv.x.w\tt0, fa0", "\tfmv.w.x\tfa0, t0"]
        if kind in ("void", "f64"):
            return []
        if kind == "x64":
            return [f"\tmv\ta0, {RETURN_REG}"]
        if kind == "x128":  # rdx:rax -> a1:a0
            return [f"\tmv\ta0, {RETURN_REG}", "\tmv\ta1, a2"]
        if kind in ("s32", "u32"):
            return [f"\tsext.w\ta0, {RETURN_REG}"]
        signed, bits = kind[0] == "s", int(kind[1:])
        if not signed and bits == 8:
            return [f"\tandi\ta0, {RETURN_REG}, 255"]
        shift = 64 - bits
        return [f"\tslli\ta0, {RETURN_REG}, {shift}",
                f"\t{'srai' if signed else 'srli'}\ta0, a0, {shift}"]  # fmt: skip

    def _inferred_return(self) -> str:
        """Without a prototype: the writes of rax that reach the returns tell the width."""
        widths = self._reaching_rax_widths()
        if widths <= {"x64"}:
            return "x64"  # a 64-bit value (or none: void): passed on as it is
        # int, short, char and bool all come back in eax; LP64D extends each by its type.
        raise Refusal("returns a 32-bit or narrower value, which RV64 extends by its C type: "
                      "the prototype is needed (NAME.c or NAME.h beside NAME.s)")  # fmt: skip

    def _reaching_rax_widths(self) -> set[str]:
        preds: dict[int, list[int]] = {a: [] for a in self.facts.blocks}
        for addr, block in self.facts.blocks.items():
            for succ in block.succs:
                preds[succ].append(addr)
        widths: set[str] = set()
        seen: set[int] = set()
        work = [a for a, b in self.facts.blocks.items()
                if any(op.code == "RETURN" for op in b.insns[-1].ops)]  # fmt: skip
        while work:
            addr = work.pop()
            kind = _last_rax_write(self.facts.blocks[addr].insns)
            if kind is None:
                if addr not in seen:
                    seen.add(addr)
                    work += preds[addr]
            elif kind != "neutral":
                widths.add(kind)
        return widths

    @staticmethod
    def _sp_adjust(amount: int) -> list[str]:
        if amount == 0:
            return []
        if -2048 <= amount < 2048:
            return [f"\taddi\tsp, sp, {amount}"]
        return [f"\tli\tt0, {amount}", "\tadd\tsp, sp, t0"]

    @staticmethod
    def _at_sp(kind: str, reg: str, offset: int) -> list[str]:
        if offset < 2048:
            return [f"\t{kind}\t{reg}, {offset}(sp)"]
        return [f"\tli\tt1, {offset}", "\tadd\tt1, t1, sp", f"\t{kind}\t{reg}, 0(t1)"]

    # --- registers -------------------------------------------------------------------------
    def _mark(self, reg: str) -> str:
        if reg in FLAG_SAVED:
            self._used_saved.add(reg)
        return reg

    def val(self, v: Var) -> str:
        """A register whose low ``v.size`` bytes hold ``v``."""
        if v.space == CONST:
            value = self._constant(v)
            if value == 0 and self._symbolic(value) is None:
                return "zero"
            reg = self._temp()
            self._const(reg, value)
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
            self.lines.append(f"\tmv\t{reg}, tp")
            return reg
        if is_flag(v) and v.offset in FLAGS and v.size == 1:
            return self._mark(FLAGS[v.offset])
        base = gpr_base(v)
        if base is not None and base in GPR:
            shift = 8 * (v.offset - base)
            if shift == 0:
                return GPR[base]
            reg = self._temp()
            self.lines.append(f"\tsrli\t{reg}, {GPR[base]}, {shift}")
            return reg
        lane = _xmm(v)
        if lane is not None and lane[1] == 0 and v.size in (4, 8):
            reg = self._temp()
            self.lines.append(f"\t{_move_from_fp(v.size)}\t{reg}, {lane[0]}")
            return reg
        if v.space == RAM and v.size <= 8:
            reg = self._temp()
            self._const(reg, v.offset)
            self.lines.append(f"\t{_load(v.size)}\t{reg}, 0({reg})")
            return reg
        raise Refusal(f"unsupported register {v} in {self._text()}", self._addr())

    def _clear_upper32(self, reg: str) -> None:
        self.lines.append(f"\tslli\t{reg}, {reg}, 32")
        self.lines.append(f"\tsrli\t{reg}, {reg}, 32")

    def _add_imm(self, dst: str, src: str, value: int) -> None:
        if -2048 <= value < 2048:
            self.lines.append(f"\taddi\t{dst}, {src}, {value}")
            return
        self._const(dst, value)
        self.lines.append(f"\tadd\t{dst}, {src}, {dst}")

    def _const(self, reg: str, value: int) -> None:
        symbol = self._symbolic(value)
        if symbol is not None:
            self.lines.append(f"\tlla\t{reg}, {symbol}")
            return
        self.lines.append(f"\tli\t{reg}, {signed_value(value, 8)}")

    def _dst(self, v: Var) -> str:
        if v.space == TMP:
            reg = self._temps.get(v) or self._temp()
            self._temps[v] = reg
            return reg
        if is_flag(v) and v.offset in FLAGS:
            return self._mark(FLAGS[v.offset])
        base = gpr_base(v)
        if base is not None and base in GPR:
            whole = (v.offset, v.size) == (base, 8) or self._clobbers(v)
            return GPR[base] if whole else self._temp()
        if v == RSP:
            return self._temp()
        lane = _xmm(v)
        if (lane is not None and lane[1] == 0 and v.size in (4, 8)) or (
            v.space == RAM and v.size <= 8
        ):
            return self._temp()
        if lane is not None and lane[1] >= 8:
            return self._temp()  # the upper half is not kept (reading it is refused)
        raise Refusal(f"writes unsupported register {v} in {self._text()}", self._addr())

    def _commit(self, v: Var, reg: str) -> None:
        lane = _xmm(v)
        if lane is not None and lane[1] >= 8:
            return
        if lane is not None:
            self.lines.append(f"\t{_move_to_fp(v.size)}\t{lane[0]}, {reg}")
            return
        if v.space == RAM:
            address = self._temp()
            self._const(address, v.offset)
            self.lines.append(f"\t{_store(v.size)}\t{reg}, 0({address})")
            return
        base = gpr_base(v)
        if base is None or base not in GPR or (v.offset, v.size) == (base, 8):
            return
        if reg == GPR[base]:
            return  # computed into the whole register (see ``_clobbers``)
        # Insert the low bytes of reg at the byte offset, keeping the rest of the register.
        target = GPR[base]
        shift = 8 * (v.offset - base)
        mask = self._temp()
        part = self._extend(reg, v.size, False)
        if shift:
            self.lines.append(f"\tslli\t{part}, {part}, {shift}")
        self._const(mask, ~(((1 << (8 * v.size)) - 1) << shift))
        self.lines.append(f"\tand\t{target}, {target}, {mask}")
        self.lines.append(f"\tor\t{target}, {target}, {part}")

    def _after_op(self, op: Op) -> None:
        """Keep ``_sext_regs`` up to date: a register written loses its fact, and gains it
        when the handler's result was sign-extended and nothing cleared the upper half."""
        produced, self._sign_extended = self._sign_extended, False
        if op.code in ("CALL", "CALLIND"):
            self._sext_regs.clear()
            return
        out = op.out
        base = None if out is None else gpr_base(out)
        if out is None or base is None or base not in GPR:
            return
        reg = GPR[base]
        if out.size <= 2 and not self._merge_dead(out):
            return  # bits 31-63 stay as they were
        self._sext_regs.discard(reg)
        cleared = op.extra == "w32" and not self._zero_extended and not self._upper_dead_after(out)
        if produced and out.size == 8 and not cleared:
            self._sext_regs.add(reg)

    def _w32_free(self, op: Op) -> bool:
        """A 32-bit write (``w32``) whose upper half may be left sign-extended."""
        return op.extra == "w32" and op.out is not None and self._upper_dead_after(op.out)

    def _extend(self, reg: str, size: int, signed: bool, into: str | None = None) -> str:
        """``reg``'s low ``size`` bytes extended to 64 bits (in a fresh register)."""
        if size == 4 and signed and reg in self._sext_regs:
            size = 8  # already is
        if size >= 8 or reg == "zero":
            if into is not None and into != reg:
                self.lines.append(f"\tmv\t{into}, {reg}")
            return into or reg
        out = into or self._temp()
        if signed and size == 4:
            self.lines.append(f"\tsext.w\t{out}, {reg}")
        elif not signed and size == 1:
            self.lines.append(f"\tandi\t{out}, {reg}, 255")
        else:
            shift = 64 - 8 * size
            self.lines.append(f"\tslli\t{out}, {reg}, {shift}")
            self.lines.append(f"\t{'srai' if signed else 'srli'}\t{out}, {out}, {shift}")
        return out

    # --- integer ops -----------------------------------------------------------------------
    def _op_copy(self, op: Op) -> None:
        assert op.out is not None
        if op.out == RSP:
            return
        lane = _xmm(op.out)
        source_lane = _xmm(op.ins[0])
        if lane is not None and source_lane is not None and self._text().startswith(WHOLE_MOVES):
            # movaps/movapd/movdqa xmm, xmm: one 64-bit move of the kept half (the lanes
            # p-code copies one by one all land in it or in the dropped upper half).
            if lane[1] == 0 and source_lane[1] == 0:
                self.lines.append(f"\tfmv.d\t{lane[0]}, {source_lane[0]}")
            return
        if lane is not None and lane[1] == 4 and op.out.size == 4 and op.ins[0].space == CONST:
            # movss from memory zeroes bits 32-63; the single stays NaN-boxed instead, as the
            # RISC-V ABI requires of a float in an FP register (an 8-byte read of this lane
            # would differ from x86, and the verifier would say so).
            return
        dst = self._dst(op.out)
        src = op.ins[0]
        if src.space == CONST:
            value = self._constant(src)
            if op.extra == "w32" and self._symbolic(value) is None:
                value &= 0xFFFFFFFF
                self._zero_extended = value < 1 << 31 or not self._w32_free(op)
                self._sign_extended = value < 1 << 31 or self._w32_free(op)
                if self._w32_free(op):
                    value = signed_value(value, 4)
            self._const(dst, value)
        elif self._w32_free(op) and src.size == 4:
            reg = self.val(src)
            self.lines.append(f"\t{'mv' if reg in self._sext_regs else 'sext.w'}\t{dst}, {reg}")
            self._sign_extended = True
        else:
            reg = self.val(src)
            if reg != dst:
                self.lines.append(f"\tmv\t{dst}, {reg}")
        self._commit(op.out, dst)

    def _binary(self, op: Op, mnemonic: str) -> None:
        assert op.out is not None
        if op.out == RSP:
            return
        if op.ins[0] == op.ins[1] and mnemonic in ("xor", "sub"):  # xor %eax, %eax
            dst = self._dst(op.out)
            self.lines.append(f"\tli\t{dst}, 0")
            self._zero_extended = self._sign_extended = True
            self._commit(op.out, dst)
            return
        immediate = self._immediate(op, mnemonic)
        if immediate is not None:
            return
        a = self.val(op.ins[0])
        b = self.val(op.ins[1])
        dst = self._dst(op.out)
        if self._w32_free(op) and mnemonic in ("add", "sub", "mul"):
            mnemonic += "w"  # the 32-bit form: sign-extended, which the upper half may be
            self._sign_extended = True
        elif op.extra == "w32" and mnemonic in ("and", "or", "xor"):
            self._sign_extended = a in self._sext_regs and b in self._sext_regs
        self.lines.append(f"\t{mnemonic}\t{dst}, {a}, {b}")
        self._commit(op.out, dst)

    def _immediate(self, op: Op, mnemonic: str) -> bool | None:
        """addi/andi/ori/xori (and sub as addi, mul by 2^k as slli) for a 12-bit constant."""
        assert op.out is not None
        left, right = op.ins
        if (
            left.space == CONST
            and right.space != CONST
            and mnemonic in ("add", "and", "or", "xor", "mul")
        ):
            left, right = right, left
        if right.space != CONST or self._symbolic(self._constant(right)) is not None:
            return None
        value = signed_value(self._constant(right), right.size)
        if mnemonic == "sub":
            mnemonic, value = "add", -value
        free = self._w32_free(op)
        if mnemonic == "mul" and value > 0 and value & (value - 1) == 0:
            text = f"slli{'w' if free else ''}\t{{dst}}, {{a}}, {value.bit_length() - 1}"
            self._sign_extended = free
        elif mnemonic in ("add", "and", "or", "xor") and -2048 <= value < 2048:
            wide = "w" if free and mnemonic == "add" else ""
            text = f"{mnemonic}i{wide}\t{{dst}}, {{a}}, {value}"
            self._zero_extended = mnemonic == "and" and value >= 0
            self._sign_extended = bool(wide) or (mnemonic == "and" and value >= 0)
        else:
            return None
        a = self.val(left)
        if mnemonic in ("and", "or", "xor") and op.extra == "w32" and a in self._sext_regs:
            self._sign_extended = True  # both sides sign-extended (so is a 12-bit immediate)
        dst = self._dst(op.out)
        self.lines.append("\t" + text.format(dst=dst, a=a))
        self._commit(op.out, dst)
        return True

    def _op_bool_negate(self, op: Op) -> None:
        assert op.out is not None
        a = self.val(op.ins[0])
        dst = self._dst(op.out)
        self.lines.append(f"\txori\t{dst}, {a}, 1")
        self._commit(op.out, dst)

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
        self._sign_extended = op.ins[0].size <= 4
        self._commit(op.out, dst)

    def _operands(self, op: Op, signed: bool) -> tuple[str, str]:
        size = op.ins[0].size
        return (
            self._extend(self.val(op.ins[0]), size, signed),
            self._extend(self.val(op.ins[1]), size, signed),
        )

    def _equality(self, op: Op, test: str) -> None:
        assert op.out is not None
        a, b = self._operands(op, False)
        dst = self._dst(op.out)
        self.lines.append(f"\txor\t{dst}, {a}, {b}")
        self.lines.append(f"\t{test}\t{dst}, {dst}")
        self._commit(op.out, dst)

    def _less(self, op: Op, signed: bool, or_equal: bool) -> None:
        assert op.out is not None
        a, b = self._operands(op, signed)
        dst = self._dst(op.out)
        mnemonic = "slt" if signed else "sltu"
        if or_equal:  # a <= b  is  !(b < a)
            self.lines.append(f"\t{mnemonic}\t{dst}, {b}, {a}")
            self.lines.append(f"\txori\t{dst}, {dst}, 1")
        else:
            self.lines.append(f"\t{mnemonic}\t{dst}, {a}, {b}")
        self._commit(op.out, dst)

    def _op_int_less(self, op: Op) -> None:
        self._less(op, False, False)

    def _op_int_lessequal(self, op: Op) -> None:
        self._less(op, False, True)

    def _op_int_sless(self, op: Op) -> None:
        self._less(op, True, False)

    def _op_int_slessequal(self, op: Op) -> None:
        self._less(op, True, True)

    def _op_int_carry(self, op: Op) -> None:
        assert op.out is not None
        size = op.ins[0].size
        a, b = self._operands(op, False)
        dst = self._dst(op.out)
        total = self._temp()
        self.lines.append(f"\tadd\t{total}, {a}, {b}")
        if size == 8:
            self.lines.append(f"\tsltu\t{dst}, {total}, {a}")
        else:
            self.lines.append(f"\tsrli\t{dst}, {total}, {8 * size}")
            self.lines.append(f"\tandi\t{dst}, {dst}, 1")
        self._commit(op.out, dst)

    def _signed_overflow(self, op: Op, subtract: bool) -> None:
        assert op.out is not None
        size = op.ins[0].size
        a, b = self._operands(op, True)
        dst = self._dst(op.out)
        result = self._temp()
        self.lines.append(f"\t{'sub' if subtract else 'add'}\t{result}, {a}, {b}")
        if size == 8:
            x, y = self._temp(), self._temp()
            if subtract:  # overflow iff a and b differ in sign and the result's sign is b's
                self.lines.append(f"\txor\t{x}, {a}, {b}")
                self.lines.append(f"\txor\t{y}, {a}, {result}")
            else:  # overflow iff the result's sign differs from both operands'
                self.lines.append(f"\txor\t{x}, {a}, {result}")
                self.lines.append(f"\txor\t{y}, {b}, {result}")
            self.lines.append(f"\tand\t{x}, {x}, {y}")
            self.lines.append(f"\tsrli\t{dst}, {x}, 63")
        else:
            narrow = self._extend(result, size, True)
            self.lines.append(f"\txor\t{dst}, {narrow}, {result}")
            self.lines.append(f"\tsnez\t{dst}, {dst}")
        self._commit(op.out, dst)

    def _op_int_scarry(self, op: Op) -> None:
        self._signed_overflow(op, False)

    def _op_int_sborrow(self, op: Op) -> None:
        self._signed_overflow(op, True)

    def _shift(self, op: Op, kind: str) -> None:
        """p-code shifts: an amount of 64 or more gives 0 (or all sign bits); narrower values
        are extended first, so amounts past their width behave the same."""
        assert op.out is not None
        size = op.ins[0].size
        amount_var = op.ins[1]
        if amount_var.space == CONST and size == 4 and 0 < self._constant(amount_var) < 32:
            # The 32-bit forms: sign-extended results (zero-extended for srliw).
            a = self.val(op.ins[0])
            dst = self._dst(op.out)
            self.lines.append(f"\t{kind}iw\t{dst}, {a}, {self._constant(amount_var)}")
            self._zero_extended = kind == "srl"
            self._sign_extended = True
            self._commit(op.out, dst)
            return
        a = self.val(op.ins[0])
        if kind != "sll":
            a = self._extend(a, size, kind == "sra")
        dst = self._dst(op.out)
        if amount_var.space == CONST:
            count = self._constant(amount_var)
            if count >= 64 and kind != "sra":
                self.lines.append(f"\tli\t{dst}, 0")
            else:
                self.lines.append(f"\t{kind}i\t{dst}, {a}, {min(count, 63)}")
            self._commit(op.out, dst)
            return
        amount = self._extend(self.val(amount_var), amount_var.size, False)
        small = self._temp()
        self.lines.append(f"\tsltiu\t{small}, {amount}, 64")
        if kind == "sra":
            clamp = self._temp()
            self.lines.append(f"\taddi\t{clamp}, {small}, -1")
            self.lines.append(f"\tandi\t{clamp}, {clamp}, 63")
            self.lines.append(f"\tor\t{clamp}, {clamp}, {amount}")
            self.lines.append(f"\tsra\t{dst}, {a}, {clamp}")
        else:
            self.lines.append(f"\t{kind}\t{dst}, {a}, {amount}")
            self.lines.append(f"\tneg\t{small}, {small}")
            self.lines.append(f"\tand\t{dst}, {dst}, {small}")
        self._commit(op.out, dst)

    def _divide(self, op: Op, signed: bool, remainder: bool) -> None:
        assert op.out is not None
        size = op.ins[0].size
        if size > 8:
            raise Refusal(f"unsupported: 128-bit division in {self._text()}", self._addr())
        a = self._extend(self.val(op.ins[0]), size, signed)
        b = self._extend(self.val(op.ins[1]), op.ins[1].size, signed)
        dst = self._dst(op.out)
        # x86 raises #DE for a zero divisor; the port must stop the same way.
        self.lines += [f"\tbnez\t{b}, 1f", "\tebreak", "1:"]
        mnemonic = ("rem" if remainder else "div") + ("" if signed else "u")
        self.lines.append(f"\t{mnemonic}\t{dst}, {a}, {b}")
        if not remainder and op.extra == "x86div64" and signed:
            # INT64_MIN / -1 does not fit: #DE on x86.
            t = self._temp()
            self.lines += [f"\tli\t{t}, -1", f"\tbne\t{b}, {t}, 1f", f"\tneg\t{t}, {a}",
                           f"\tbne\t{t}, {a}, 1f", f"\tbeqz\t{a}, 1f", "\tebreak", "1:"]  # fmt: skip
        elif not remainder and op.extra != "x86div64" and self._text().startswith(("DIV", "IDIV")):
            # x86 also raises #DE when the quotient does not fit the destination.
            fitted = self._extend(dst, size // 2, signed)
            self.lines += [f"\tbeq\t{fitted}, {dst}, 1f", "\tebreak", "1:"]
        self._commit(op.out, dst)

    def _op_subpiece(self, op: Op) -> None:
        assert op.out is not None
        shift = 8 * op.ins[1].offset
        if op.ins[0].size > 8 or shift >= 64:
            self._wide(op)
            return
        a = self.val(op.ins[0])
        dst = self._dst(op.out)
        self.lines.append(f"\tsrli\t{dst}, {a}, {shift}" if shift else f"\tmv\t{dst}, {a}")
        self._commit(op.out, dst)

    def _op_piece(self, op: Op) -> None:
        assert op.out is not None
        if op.out.size > 8:
            raise Refusal(f"unsupported: 128-bit value in {self._text()}", self._addr())
        hi = self.val(op.ins[0])
        lo = self._extend(self.val(op.ins[1]), op.ins[1].size, False)
        dst = self._dst(op.out)
        shifted = self._temp()
        self.lines.append(f"\tslli\t{shifted}, {hi}, {8 * op.ins[1].size}")
        self.lines.append(f"\tor\t{dst}, {shifted}, {lo}")
        self._commit(op.out, dst)

    def _op_popcount(self, op: Op) -> None:
        """SWAR population count (RV64GC has no cpop)."""
        assert op.out is not None
        x = self._extend(self.val(op.ins[0]), op.ins[0].size, False)
        dst = self._dst(op.out)
        t, m = self._temp(), self._temp()
        if x != dst:
            self.lines.append(f"\tmv\t{dst}, {x}")
        for shift, mask in ((1, 0x5555555555555555), (2, 0x3333333333333333)):
            self.lines.append(f"\tsrli\t{t}, {dst}, {shift}")
            self.lines.append(f"\tli\t{m}, {signed_value(mask, 8)}")
            self.lines.append(f"\tand\t{t}, {t}, {m}")
            self.lines.append(
                f"\tand\t{dst}, {dst}, {m}" if shift == 2 else f"\tsub\t{dst}, {dst}, {t}"
            )
            if shift == 2:
                self.lines.append(f"\tadd\t{dst}, {dst}, {t}")
        self.lines.append(f"\tsrli\t{t}, {dst}, 4")
        self.lines.append(f"\tadd\t{dst}, {dst}, {t}")
        self.lines.append(f"\tli\t{m}, {signed_value(0x0F0F0F0F0F0F0F0F, 8)}")
        self.lines.append(f"\tand\t{dst}, {dst}, {m}")
        self.lines.append(f"\tli\t{m}, {signed_value(0x0101010101010101, 8)}")
        self.lines.append(f"\tmul\t{dst}, {dst}, {m}")
        self.lines.append(f"\tsrli\t{dst}, {dst}, 56")
        self._commit(op.out, dst)

    def _op_load(self, op: Op) -> None:
        assert op.out is not None
        size = op.out.size
        if size > 8:
            self._wide(op)
            return
        address = self._address(op.ins[1], op.disp)
        dst = self._dst(op.out)
        if op.extra.startswith("sext"):  # a load fused with its sign extension
            mnemonic = {1: "lb", 2: "lh", 4: "lw"}[int(op.extra[4:])]
            self._sign_extended = True
        elif op.extra == "zext4" and self._upper_dead_after(op.out):
            mnemonic = "lw"  # a 32-bit register load whose upper half nothing reads
            self._sign_extended = True
        elif op.extra.startswith("zext"):
            mnemonic = _load(int(op.extra[4:]))
            self._sign_extended = op.extra in ("zext1", "zext2")
        elif size == 4 and op.out.space == TMP:
            # A temporary's upper half is unspecified: lw's sign extension is free to have,
            # and saves the sext.w of a 32-bit compare.
            mnemonic = "lw"
            self._known[op.out] = True
        else:
            mnemonic = _load(size)
            if size < 4 and op.out.space == TMP:
                self._known[op.out] = False
        self.lines.append(f"\t{mnemonic}\t{dst}, {address}")
        self._commit(op.out, dst)

    def _op_store(self, op: Op) -> None:
        value = op.ins[2]
        if value.size > 8:
            self._wide(op)
            return
        address = self._address(op.ins[1], op.disp)
        src = self.val(value)
        self.lines.append(f"\t{_store(value.size)}\t{src}, {address}")

    def _address(self, v: Var, disp: int = 0) -> str:
        """A memory operand for address ``v + disp`` (stack addresses fold into sp)."""
        if v == RSP:
            base, offset = "sp", self._rsp_offset() + disp
        else:
            base, offset = self.val(v), disp
        if -2048 <= offset < 2048:
            return f"{offset}({base})"
        reg = self._temp()
        self._add_imm(reg, base, offset)
        return f"0({reg})"

    # --- control flow ----------------------------------------------------------------------
    def _op_branch(self, op: Op) -> None:
        assert self._insn is not None
        target = op.ins[0]
        if target.space == CONST:
            index = self._op_index(op) + signed_value(target.offset, 8)
            self.lines.append(f"\tj\t.Lp{self._insn.address:x}_{index}")
            return
        if target.offset in self.facts.blocks:
            self.lines.append(f"\tj\t{self.naming.label(target.offset)}")
            return
        if self.facts.rsp_delta[self._insn.address] != 0:
            raise Refusal(f"jump out of the function with a frame in {self._text()}", self._addr())
        callee = self._callee(target.offset)
        self._extend_arguments(self.callees.get(callee))
        self.lines += self._unwind()
        self.lines.append(f"\ttail\t{callee}")

    def _condition(self, v: Var) -> str:
        reg = self.val(v)
        if is_flag(v) or v.space == TMP:
            return reg  # produced as exactly 0 or 1
        bit = self._temp()
        self.lines.append(f"\tandi\t{bit}, {reg}, 1")
        return bit

    def _op_cbranch(self, op: Op) -> None:
        assert self._insn is not None
        cond = self._condition(op.ins[1])
        target = op.ins[0]
        if target.space == CONST:
            index = self._op_index(op) + signed_value(target.offset, 8)
            label = f".Lp{self._insn.address:x}_{index}"
        elif target.offset in self.facts.blocks:
            label = self.naming.label(target.offset)
        else:
            raise Refusal(f"conditional jump out of the function in {self._text()}", self._addr())
        # The assembler turns a branch out of range into an inverted one around a jump.
        self.lines.append(f"\tbnez\t{cond}, {label}")

    def _compare_operands(
        self, condition: str, left: Var, right: Var, is_test: bool
    ) -> tuple[str, str, str]:
        """(condition, x, y): the comparison of two extended registers x86's cmp/test makes."""
        signed = condition in ("lt", "ge", "gt", "le")
        size = left.size
        if is_test:
            condition = {"hi": "ne", "ls": "eq"}.get(condition, condition)
            # Only zero or not (eq/ne) needs no sign: andi is the cheaper byte extension.
            signed = condition not in ("eq", "ne") or size == 4
            if right == left:
                return condition, self._extended(left, signed), "zero"
            if left.space == CONST:
                left, right = right, left
            value = self._constant(right) & ((1 << (8 * size)) - 1)
            if right.space == CONST and self._symbolic(value) is None and value < 2048:
                both = self._temp()
                self.lines.append(f"\tandi\t{both}, {self.val(left)}, {value}")
                if value >> (8 * size - 1) == 0:  # the top bit of the width is clear
                    return condition, both, "zero"
                return condition, self._extend(both, size, signed), "zero"
            a = self.val(left)
            both = self._temp()
            self.lines.append(f"\tand\t{both}, {a}, {self.val(right)}")
            return condition, self._extend(both, size, signed), "zero"
        x = self._extended(left, signed or size == 4)
        y = self._extended(right, signed or size == 4)
        return condition, x, y

    def _extended(self, v: Var, signed: bool) -> str:
        """A register holding ``v`` extended to 64 bits (a constant extended right away)."""
        if self._known.get(v) is signed:
            return self.val(v)
        if v.space == CONST and self._symbolic(self._constant(v)) is None:
            value = self._constant(v)
            value = signed_value(value, v.size) if signed else value
            if value == 0:
                return "zero"
            reg = self._temp()
            self.lines.append(f"\tli\t{reg}, {value}")
            return reg
        return self._extend(self.val(v), v.size, signed)

    def _compare_branch(
        self, condition: str, left: Var, right: Var, is_test: bool, label: str
    ) -> None:
        if is_test and condition == "lo":
            return  # TEST clears CF: never taken
        if is_test and condition == "hs":
            self.lines.append(f"\tj\t{label}")
            return
        condition, x, y = self._compare_operands(condition, left, right, is_test)
        mnemonic, first, second = {
            "eq": ("beq", x, y), "ne": ("bne", x, y), "lt": ("blt", x, y),
            "ge": ("bge", x, y), "gt": ("blt", y, x), "le": ("bge", y, x),
            "lo": ("bltu", x, y), "hs": ("bgeu", x, y), "hi": ("bltu", y, x),
            "ls": ("bgeu", y, x),
        }[condition]  # fmt: skip
        # The assembler turns a branch out of range into an inverted one around a jump.
        self.lines.append(f"\t{mnemonic}\t{first}, {second}, {label}")

    def _condition_value(self, condition: str, left: Var, right: Var, is_test: bool) -> str:
        """A register holding 1 when the comparison holds, else 0."""
        condition, x, y = self._compare_operands(condition, left, right, is_test)
        out = self._temp()
        if condition in ("eq", "ne"):
            self.lines.append(f"\txor\t{out}, {x}, {y}")
            self.lines.append(f"\t{'seqz' if condition == 'eq' else 'snez'}\t{out}, {out}")
            return out
        mnemonic = "slt" if condition in ("lt", "ge", "gt", "le") else "sltu"
        swap = condition in ("gt", "le", "hi", "ls")
        self.lines.append(f"\t{mnemonic}\t{out}, {y if swap else x}, {x if swap else y}")
        if condition in ("ge", "le", "hs", "ls"):
            self.lines.append(f"\txori\t{out}, {out}, 1")
        return out

    def _compare_set(self, condition: str, left: Var, right: Var, is_test: bool, dest: Var) -> None:
        value = self._condition_value(condition, left, right, is_test)
        base = gpr_base(dest)
        assert base is not None
        target = GPR[base]
        if dest.offset == base:  # the low byte: clear it and or in the 0/1 result
            # (bits 31-63 untouched: what _sext_regs says of them still holds)
            self.lines.append(f"\tandi\t{target}, {target}, -256")
            self.lines.append(f"\tor\t{target}, {target}, {value}")
            return
        dst = self._dst(dest)
        self.lines.append(f"\tmv\t{dst}, {value}")
        self._commit(dest, dst)

    def _compare_select(
        self, condition: str, left: Var, right: Var, is_test: bool, dest: Var, source: Var
    ) -> None:
        value = self._condition_value(condition, left, right, is_test)
        base = gpr_base(dest)
        assert base is not None
        target = GPR[base]
        self._sext_regs.discard(target)
        self.lines += [f"\tbeqz\t{value}, 1f", f"\tmv\t{target}, {self.val(source)}", "1:"]
        if dest.size == 4 and not self._upper_dead_after(dest, self._user_address):
            self._clear_upper32(target)

    def _op_branchind(self, op: Op) -> None:
        if not self.facts.indirect_targets:
            raise Refusal(f"indirect jump with unknown targets in {self._text()}", self._addr())
        self.lines.append(f"\tjr\t{self.val(op.ins[0])}")

    def _op_call(self, op: Op) -> None:
        callee = self._callee(op.ins[0].offset)
        self._extend_arguments(self.callees.get(callee))
        self.lines.append(f"\tcall\t{callee}")
        self.lines.append(f"\tmv\t{RETURN_REG}, a0")

    def _extend_arguments(self, kinds: list[str] | None) -> None:
        """x86 leaves the upper bits of narrow integer arguments unspecified; LP64D wants them
        extended by type (32-bit ones sign-extended), so a callee with a known prototype gets
        them that way. Integer arguments fill a0-a7 in order, as they fill rdi, rsi, ..."""
        if not kinds:
            return
        if (
            sum(not k.startswith("f") for k in kinds) > 6
            or sum(k.startswith("f") for k in kinds) > 8
        ):
            raise Refusal(f"call with stack arguments in {self._text()}", self._addr())
        registers = iter(("a0", "a1", "a2", "a3", "a4", "a5"))
        for kind in kinds:
            if kind.startswith("f"):
                continue
            reg = next(registers, None)
            if reg is None:
                return
            if kind in ("s32", "u32") and reg not in self._sext_regs:
                self.lines.append(f"\tsext.w\t{reg}, {reg}")
            elif kind[0] in "su" and kind[1:] in ("8", "16"):
                self._extend(reg, int(kind[1:]) // 8, kind[0] == "s", reg)

    def _op_callind(self, op: Op) -> None:
        self.lines.append(f"\tjalr\t{self.val(op.ins[0])}")
        self.lines.append(f"\tmv\t{RETURN_REG}, a0")

    def _op_return(self, op: Op) -> None:
        assert self._insn is not None
        if self.facts.rsp_delta[self._insn.address] != 0:
            raise Refusal(f"return with the stack not at its entry depth in {self._text()}",
                          self._addr())  # fmt: skip
        self.lines += self._epilogue()
        self.lines.append("\tret")

    # --- XMM registers (their low 64 bits) ---------------------------------------------------
    def _low(self, v: Var) -> str:
        """The low 64 bits of a 128-bit operand, in an integer register."""
        lane = _xmm(v)
        if lane is not None and lane[1] == 0:
            reg = self._temp()
            self.lines.append(f"\tfmv.x.d\t{reg}, {lane[0]}")
            return reg
        if v.space == TMP and v in self._temps:
            return self._temps[v]
        if v.space == CONST and v.offset == 0:
            return "zero"
        raise Refusal(f"unsupported 128-bit operand {v} in {self._text()}", self._addr())

    def _set_low(self, out: Var, reg: str) -> None:
        lane = _xmm(out)
        if lane is not None and lane[1] == 0:
            self.lines.append(f"\tfmv.d.x\t{lane[0]}, {reg}")
            return
        if out.space == TMP:
            dst = self._temps.get(out) or self._temp()
            self._temps[out] = dst
            if dst != reg:
                self.lines.append(f"\tmv\t{dst}, {reg}")
            return
        raise Refusal(f"unsupported 128-bit result {out} in {self._text()}", self._addr())

    def _wide(self, op: Op) -> None:
        """128-bit ops, computed on the low half only: the upper half is never read (a read of
        it is refused), so what it holds cannot be observed."""
        out, code = op.out, op.code
        if code == "SUBPIECE" and out is not None and op.ins[1].offset == 0 and out.size <= 8:
            low = self._low(op.ins[0])
            dst = self._dst(out)
            self.lines.append(f"\tmv\t{dst}, {low}")
            self._commit(out, dst)
            return
        if out is None or out.size != 16:
            raise Refusal(f"unsupported: 128-bit {code} in {self._text()}", self._addr())
        if code == "LOAD":
            reg = self._temp()
            self.lines.append(f"\tld\t{reg}, {self._address(op.ins[1], op.disp)}")
            self._set_low(out, reg)
            return
        if code == "COPY":
            self._set_low(out, self._low(op.ins[0]))
            return
        if code in ("INT_XOR", "INT_AND", "INT_OR"):
            a, b = self._low(op.ins[0]), self._low(op.ins[1])
            reg = self._temp()
            mnemonic = {"INT_XOR": "xor", "INT_AND": "and", "INT_OR": "or"}[code]
            self.lines.append(f"\t{mnemonic}\t{reg}, {a}, {b}")
            self._set_low(out, reg)
            return
        if code == "INT_ZEXT" and op.ins[0].size in (4, 8):
            size = op.ins[0].size
            src = self.val(op.ins[0])
            lane = _xmm(out)
            if lane is not None and lane[1] == 0:
                self.lines.append(f"\t{_move_to_fp(size)}\t{lane[0]}, {src}")
                return
            self._set_low(out, self._extend(src, size, False))
            return
        raise Refusal(f"unsupported: 128-bit {code} in {self._text()}", self._addr())

    # --- scalar floating point ---------------------------------------------------------------
    def _to_fp(self, v: Var, scratch: str) -> str:
        reg = self.val(v)
        self.lines.append(f"\t{_move_to_fp(v.size)}\t{scratch}, {reg}")
        return scratch

    def _from_fp(self, out: Var, fp: str) -> None:
        dst = self._dst(out)
        self.lines.append(f"\t{_move_from_fp(out.size)}\t{dst}, {fp}")
        self._commit(out, dst)

    def _fp_binary(self, op: Op, mnemonic: str) -> None:
        assert op.out is not None
        suffix = _fp_suffix(op.out.size)
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        b = self._to_fp(op.ins[1], FP_SCRATCH[1])
        self.lines.append(f"\t{mnemonic}.{suffix}\t{a}, {a}, {b}")
        self._from_fp(op.out, a)

    def _fp_unary(self, op: Op, mnemonic: str) -> None:
        assert op.out is not None
        suffix = _fp_suffix(op.out.size)
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        self.lines.append(f"\t{mnemonic}.{suffix}\t{a}, {a}")
        self._from_fp(op.out, a)

    def _fp_compare(self, op: Op, mnemonic: str, negate: bool = False) -> None:
        assert op.out is not None
        suffix = _fp_suffix(op.ins[0].size)
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        b = self._to_fp(op.ins[1], FP_SCRATCH[1])
        dst = self._dst(op.out)
        self.lines.append(f"\t{mnemonic}.{suffix}\t{dst}, {a}, {b}")
        if negate:
            self.lines.append(f"\txori\t{dst}, {dst}, 1")
        self._commit(op.out, dst)

    def _op_float_notequal(self, op: Op) -> None:
        self._fp_compare(op, "feq", negate=True)

    def _op_float_nan(self, op: Op) -> None:
        assert op.out is not None
        suffix = _fp_suffix(op.ins[0].size)
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        dst = self._dst(op.out)
        self.lines.append(f"\tfeq.{suffix}\t{dst}, {a}, {a}")
        self.lines.append(f"\txori\t{dst}, {dst}, 1")
        self._commit(op.out, dst)

    def _op_float_int2float(self, op: Op) -> None:
        assert op.out is not None
        src = self._extend(self.val(op.ins[0]), op.ins[0].size, True)
        suffix = _fp_suffix(op.out.size)
        self.lines.append(f"\tfcvt.{suffix}.l\t{FP_SCRATCH[0]}, {src}")
        self._from_fp(op.out, FP_SCRATCH[0])

    def _op_float_float2float(self, op: Op) -> None:
        assert op.out is not None
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        to, frm = _fp_suffix(op.out.size), _fp_suffix(op.ins[0].size)
        self.lines.append(f"\tfcvt.{to}.{frm}\t{FP_SCRATCH[1]}, {a}")
        self._from_fp(op.out, FP_SCRATCH[1])

    def _op_float_trunc(self, op: Op) -> None:
        """x86 gives the "integer indefinite" (only the sign bit set) for NaN and for values
        out of range; RISC-V saturates (NaN to the maximum), so those cases are patched."""
        assert op.out is not None
        bits = 8 * op.out.size
        frm = _fp_suffix(op.ins[0].size)
        a = self._to_fp(op.ins[0], FP_SCRATCH[0])
        dst = self._dst(op.out)
        width = "w" if bits == 32 else "l"
        self.lines.append(f"\tfcvt.{width}.{frm}\t{dst}, {a}, rtz")
        ok: str = self._temp()
        self._const(ok, _float_bits(float(2 ** (bits - 1)), op.ins[0].size))
        self.lines.append(f"\t{_move_to_fp(op.ins[0].size)}\t{FP_SCRATCH[1]}, {ok}")
        self.lines.append(f"\tflt.{frm}\t{ok}, {a}, {FP_SCRATCH[1]}")
        self.lines += [f"\tbnez\t{ok}, 1f", f"\tli\t{dst}, {-(1 << (bits - 1))}", "1:"]
        self._commit(op.out, dst)


def _last_rax_write(insns: list[Insn]) -> str | None:
    """How the last write of rax in ``insns`` sets it: "x64", "s32", "narrow", "neutral" (a
    small constant, or a call's result, right at any width), or None when none does."""
    for ins in reversed(insns):
        for index in range(len(ins.ops) - 1, -1, -1):
            op = ins.ops[index]
            if op.code in ("CALL", "CALLIND"):
                return "neutral"
            out = op.out
            if out is None or gpr_base(out) != 0x00:
                continue
            if out.size < 4:
                return "narrow"
            if out.size == 4:
                continue  # the zero extension that follows decides
            if op.code == "INT_ZEXT" and op.ins[0].size == 4:
                source = next((o for o in reversed(ins.ops[:index]) if o.out == op.ins[0]), None)
                return "neutral" if source is not None and _small_constant(source) else "s32"
            if op.code == "COPY" and op.ins[0].space == CONST:
                # mov $imm, %eax and %rax look alike here: only small values are certain.
                return "neutral" if op.ins[0].offset < 1 << 31 else "s32"
            if any(v.size < 8 for v in op.ins if v.space != CONST):
                return "s32"  # built from narrower values: not certainly a 64-bit result
            return "x64"
    return None


def _small_constant(op: Op) -> bool:
    """An op that sets a 32-bit register to a constant below 2**31 (or xor-clears it)."""
    if op.code == "COPY" and op.ins[0].space == CONST:
        return op.ins[0].offset < 1 << 31
    return op.code == "INT_XOR" and op.ins[0] == op.ins[1]


def _load(size: int) -> str:
    return {1: "lbu", 2: "lhu", 4: "lwu", 8: "ld"}[size]


def _store(size: int) -> str:
    return {1: "sb", 2: "sh", 4: "sw", 8: "sd"}[size]
