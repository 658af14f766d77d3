"""The op-list rewrites and the dead-bits analysis, on hand-made p-code and on real lifts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from retarget.transpile.symbolic.analysis import FunctionFacts, build_blocks
from retarget.transpile.symbolic.lift import CONST, REG, TMP, Insn, Op, Var, lift
from retarget.transpile.symbolic.passes import (
    evaluate,
    fold_constants,
    fold_index,
    forward_destinations,
    fuse_zero_extension,
)
from retarget.transpile.symbolic.upper import dead_bits

EAX, RAX = Var(REG, 0x00, 4), Var(REG, 0x00, 8)
RDI, RSI = Var(REG, 0x38, 8), Var(REG, 0x30, 8)
RAM_SPACE = Var(CONST, 0x1234, 8)


def t(n: int, size: int = 8) -> Var:
    return Var(TMP, 0x100 * n, size)


def c(value: int, size: int = 8) -> Var:
    return Var(CONST, value, size)


def live(ops: list[Op]) -> list[Op]:
    return [op for op in ops if op.code != "NOP"]


def test_evaluate_follows_pcode_semantics() -> None:
    assert evaluate("INT_SUB", [0x10, 8], [4, 4], 4) == 8
    assert evaluate("INT_LEFT", [1, 40], [4, 4], 4) == 0  # shift past the width gives 0
    assert evaluate("INT_SRIGHT", [0x80, 3], [1, 1], 1) == 0xF0
    assert evaluate("INT_SLESS", [0xFF, 0], [1, 1], 1) == 1
    assert evaluate("INT_SEXT", [0x80], [1], 4) == 0xFFFFFF80
    assert evaluate("POPCOUNT", [0xF0F0], [2], 1) == 8
    assert evaluate("FLOAT_ADD", [1, 2], [8, 8], 8) is None


def test_constants_fold_into_shift_counts() -> None:
    # rol ax, 8 as SLEIGH spells it: the counts are 8 & 15 and 16 - (8 & 15).
    ax = Var(REG, 0x00, 2)
    ops = [
        Op("INT_AND", t(1, 4), (c(8, 4), c(15, 4))),
        Op("INT_LEFT", t(2, 2), (ax, t(1, 4))),
        Op("INT_SUB", t(3, 4), (c(16, 4), t(1, 4))),
        Op("INT_RIGHT", t(4, 2), (ax, t(3, 4))),
        Op("INT_OR", ax, (t(2, 2), t(4, 2))),
    ]
    out = fold_constants(ops)
    assert len(out) == len(ops)  # positions kept
    assert [op.ins for op in live(out) if op.code != "INT_OR"] == [(ax, c(8, 4)), (ax, c(8, 4))]


def test_identities_leave_a_copy() -> None:
    out = fold_constants([Op("INT_MULT", t(1), (RDI, c(1))), Op("COPY", RAX, (t(1),))])
    assert out[0] == Op("COPY", t(1), (RDI,))
    zero = fold_constants([Op("INT_AND", t(1), (RDI, c(0))), Op("COPY", RAX, (t(1),))])
    assert live(zero) == [Op("COPY", RAX, (c(0),))]


def test_folding_skips_instructions_that_loop() -> None:
    ops = [Op("COPY", t(1), (c(3),)), Op("CBRANCH", None, (c(0), t(1))), Op("COPY", RAX, (t(1),))]
    assert fold_constants(ops) == ops


def test_results_are_computed_into_their_register() -> None:
    ops = [Op("LOAD", t(1, 4), (RAM_SPACE, RDI)), Op("COPY", EAX, (t(1, 4),))]
    assert live(forward_destinations(ops)) == [Op("LOAD", EAX, (RAM_SPACE, RDI))]


def test_no_forwarding_when_the_register_is_read_in_between() -> None:
    ops = [
        Op("LOAD", t(1), (RAM_SPACE, RDI)),
        Op("INT_ADD", t(2), (RAX, c(1))),
        Op("COPY", RAX, (t(1),)),
        Op("STORE", None, (RAM_SPACE, RSI, t(2))),
    ]
    assert forward_destinations(ops) == ops


def test_32_bit_loads_write_the_whole_register() -> None:
    ops = [Op("LOAD", EAX, (RAM_SPACE, RDI)), Op("INT_ZEXT", RAX, (EAX,))]
    assert live(fuse_zero_extension(ops)) == [Op("LOAD", RAX, (RAM_SPACE, RDI), "zext4")]


def test_low_half_of_a_wide_sum_is_one_32_bit_op() -> None:
    # lea eax, [rax + rax*2 + 1]
    ops = [
        Op("INT_MULT", t(1), (RAX, c(2))),
        Op("INT_ADD", t(2), (RAX, t(1))),
        Op("SUBPIECE", EAX, (t(2), c(0, 4))),
        Op("INT_ZEXT", RAX, (EAX,)),
    ]
    out = live(fuse_zero_extension(ops))
    assert out[-1] == Op("INT_ADD", RAX, (RAX, t(1)), "w32")


def test_scaled_index_folds_into_the_access() -> None:
    # mov edx, [rdi + rax*4]
    edx = Var(REG, 0x10, 4)
    ops = [
        Op("INT_MULT", t(1), (RAX, c(4))),
        Op("INT_ADD", t(2), (RDI, t(1))),
        Op("LOAD", edx, (RAM_SPACE, t(2))),
    ]
    (load,) = live(fold_index(ops))
    assert (load.ins[1], load.index, load.scale) == (RDI, RAX, 2)


def test_index_scale_must_match_the_access_size() -> None:
    ops = [
        Op("INT_MULT", t(1), (RAX, c(4))),
        Op("INT_ADD", t(2), (RDI, t(1))),
        Op("LOAD", t(3, 1), (RAM_SPACE, t(2))),
    ]
    assert fold_index(ops) == ops


def _facts(tmp_path: Path, asm: str) -> tuple[list[Insn], FunctionFacts]:
    source = tmp_path / "f.s"
    source.write_text(".intel_syntax noprefix\n.text\n" + asm + "\n")
    subprocess.run(["as", "-o", str(tmp_path / "f.o"), str(source)], check=True)
    subprocess.run(["objcopy", "-O", "binary", "-j", ".text", str(tmp_path / "f.o"),
                    str(tmp_path / "f.bin")], check=True)  # fmt: skip
    code = (tmp_path / "f.bin").read_bytes()
    insns = lift(code, 0x1000)
    return insns, build_blocks(insns, [(0x1000, 0x1000 + len(code))], [])


def test_upper_half_dead_when_only_32_bits_are_returned(tmp_path: Path) -> None:
    insns, facts = _facts(tmp_path, "add eax, edi\nret")
    add = insns[0].address
    assert (add, 0x00) in dead_bits(facts, "s32", lambda op: None).upper
    assert (add, 0x00) not in dead_bits(facts, "x64", lambda op: None).upper


def test_upper_half_live_when_used_as_an_address(tmp_path: Path) -> None:
    insns, facts = _facts(
        tmp_path, "add eax, 1\nmov ecx, dword ptr [rdi + rax*4]\nmov eax, ecx\nret"
    )
    dead = dead_bits(facts, "s32", lambda op: None)
    assert (insns[0].address, 0x00) not in dead.upper  # rax indexes memory: read whole
    assert (insns[1].address, 0x08) in dead.upper  # ecx is only copied as 32 bits


def test_unknown_callees_read_whole_argument_registers(tmp_path: Path) -> None:
    # call rel32 +0x1000: a callee outside the function
    insns, facts = _facts(tmp_path, "add edi, 1\n.byte 0xe8\n.long 0x1000\nret")
    assert (insns[0].address, 0x38) not in dead_bits(
        facts,
        "void",
        lambda op: None,
    ).upper
    assert (insns[0].address, 0x38) in dead_bits(
        facts,
        "void",
        lambda op: ["s32"],
    ).upper


def test_narrow_write_may_clobber_when_the_rest_is_dead(tmp_path: Path) -> None:
    insns, facts = _facts(tmp_path, "add ax, word ptr [rdi]\nret")
    assert (insns[0].address, 0x00, 2) in dead_bits(facts, "s16", lambda op: None).merge
    assert (insns[0].address, 0x00, 2) not in dead_bits(facts, "s32", lambda op: None).merge


@pytest.mark.parametrize("returns", ["s8", "u8"])
def test_byte_returns_leave_every_other_bit_dead(tmp_path: Path, returns: str) -> None:
    insns, facts = _facts(tmp_path, "mov al, byte ptr [rdi]\nret")
    assert (insns[0].address, 0x00, 1) in dead_bits(facts, returns, lambda op: None).merge
