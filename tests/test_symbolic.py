"""The symbolic translator: its output verifies against the original, or it refuses with why."""

from __future__ import annotations

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


@pytest.mark.parametrize("target", ["aarch64", "riscv64"])
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_translated_corpus_functions_verify(target: str, opt: str, tmp_path: Path) -> None:
    functions = {f.name: f for f in corpus_functions(CORPUS)}
    verified = 0
    for name in SAMPLE:
        fn = functions[name]
        source, _ = compile_file(fn.file, target, opt, tmp_path)
        signatures = {f.name: f.prototype.render() for f in functions.values() if f.file == fn.file}
        result = translate_source(source, target, fn.file.name, signatures=signatures)
        status = next(s for s in result.functions if s.name == name)
        if not status.translated:
            assert status.reason and status.line, status
            continue
        check = verify_function(source, result.assembly, name, fn.prototype.render(), target,
                                VerifyOptions(sizes=parse_sizes(fn.sizes)))  # fmt: skip
        assert check.verdict is Verdict.VERIFIED, (name, check.detail, result.assembly)
        verified += 1
    assert verified >= len(SAMPLE) - 1


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
