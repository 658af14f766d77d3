"""The symbolic translator: its output verifies against the original, or it refuses with why."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from retarget.testgen.inputs import parse_sizes
from retarget.transpile.corpus import compile_file, corpus_functions
from retarget.transpile.symbolic.translate import translate_source
from retarget.transpile.verify import Verdict, VerifyOptions, verify_function
from tests.conftest import CORPUS, needs_cross

pytestmark = needs_cross

SAMPLE = ("sum_array", "insertion_sort", "parse_int", "op_apply", "fib", "grow_and_sum",
          "day_name", "collatz_steps", "sext_mix", "count_char")  # fmt: skip


CORPUS_FILES = sorted({f.file for f in corpus_functions(CORPUS)})


@pytest.mark.parametrize("target", ["aarch64", "riscv64"])
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_every_translated_corpus_function_verifies(
    path: Path, target: str, opt: str, tmp_path: Path
) -> None:
    """What the translator emits it must stand behind: every function it does not refuse is
    verified against the x86-64 original (unverifiable only when it calls a refused one)."""
    functions = [f for f in corpus_functions(CORPUS) if f.file == path]
    source, _ = compile_file(path, target, opt, tmp_path)
    signatures = {f.name: f.prototype.render() for f in functions}
    result = translate_source(source, target, path.name, signatures=signatures)
    status = {s.name: s for s in result.functions}
    refused = {name for name, s in status.items() if not s.translated}
    for fn in functions:
        if fn.name in refused:
            assert status[fn.name].reason and status[fn.name].line, status[fn.name]
            continue
        check = verify_function(source, result.assembly, fn.name, fn.prototype.render(), target,
                                VerifyOptions(sizes=parse_sizes(fn.sizes)))  # fmt: skip
        if check.verdict is Verdict.UNVERIFIABLE:
            assert any(repr(name) in check.detail for name in refused), check.detail
            continue
        assert check.verdict is Verdict.VERIFIED, (fn.name, check.detail)


def test_most_of_a_sample_translates(tmp_path: Path) -> None:
    functions = {f.name: f for f in corpus_functions(CORPUS)}
    translated = 0
    for name in SAMPLE:
        fn = functions[name]
        source, _ = compile_file(fn.file, "riscv64", "-O2", tmp_path)
        signatures = {f.name: f.prototype.render() for f in functions.values() if f.file == fn.file}
        result = translate_source(source, "riscv64", fn.file.name, signatures=signatures)
        translated += next(s for s in result.functions if s.name == name).translated
    assert translated >= len(SAMPLE) - 1


@pytest.mark.parametrize("target", ["aarch64", "riscv64"])
def test_unsupported_instructions_are_refused_with_line(target: str) -> None:
    source = "\t.text\n\t.globl f\n\t.type f,@function\nf:\n\tvpaddd %ymm1, %ymm0, %ymm0\n\tret\n"
    result = translate_source(source, target, "avx.s")
    (status,) = result.functions
    assert not status.translated
    assert "VPADDD" in status.reason.upper()
    assert status.line == 5


def test_dynamic_stack_allocation_is_refused() -> None:
    source = (
        "\t.text\n\t.globl f\n\t.type f,@function\nf:\n\tsubq %rdi, %rsp\n"
        "\tmovq %rsp, %rax\n\tret\n"
    )
    (status,) = translate_source(source, "aarch64", "alloca.s").functions
    assert not status.translated
    assert "stack pointer" in status.reason
    assert status.line == 5


def test_riscv_narrow_returns_need_the_prototype(pair) -> None:  # type: ignore[no-untyped-def]
    source, _ = pair("signed char add_i8(signed char a, signed char b) { return a + b; }",
                     "riscv64", "-O0")  # fmt: skip
    (status,) = translate_source(source, "riscv64", "w.s").functions
    assert not status.translated
    assert "prototype" in status.reason
    sig = "signed char add_i8(signed char a, signed char b)"
    result = translate_source(source, "riscv64", "w.s", signatures={"add_i8": sig})
    assert result.functions[0].translated
    check = verify_function(source, result.assembly, "add_i8", sig, "riscv64")
    assert check.verdict is Verdict.VERIFIED, check.detail


def test_riscv_calls_extend_32_bit_arguments_for_known_callees(pair) -> None:  # type: ignore[no-untyped-def]
    source, _ = pair("long g(int v, long w); long f(int x, long y) { return g(x - 1, y) + 1; }",
                     "riscv64", "-O2")  # fmt: skip
    signatures = {"f": "long f(int x, long y)", "g": "long g(int v, long w)"}
    result = translate_source(source, "riscv64", "c.s", signatures=signatures)
    assert result.functions[0].translated
    body = result.assembly.split("call\tg")[0]
    # The first argument is an int: sign-extended as LP64D wants (x - 1 by addiw, which does
    # it, or by a sext.w after); the second is left alone.
    writes = [line.split()[0] for line in body.splitlines() if re.match(r"\s+\S+\s+a0,", line)]
    assert writes[-1] in ("addiw", "sext.w"), body
    assert not any(re.match(r"\s+\S+\s+a1,", line) for line in body.splitlines()), body
