"""The verifier's verdicts on hand-written candidates: right ones pass, wrong ones are caught."""

from __future__ import annotations

import pytest

from retarget.errors import FunctionNotFound, PrototypeError, SourceError
from retarget.testgen.inputs import coerce_input, make_plan
from retarget.testgen.prototype import parse_prototype
from retarget.testgen.search import SearchLimits
from retarget.transpile.verify import Verdict, VerifyOptions, verify_function
from tests.conftest import needs_cross

pytestmark = needs_cross

SUM = (
    "long sum(const int *a, int n) { long s = 0; for (int i = 0; i < n; i++) s += a[i]; return s; }"
)
SUM_SIG = "long sum(const int *a, int n)"

# A correct AArch64 sum, then a copy with one defect each.
A64_SUM = """
    .text
    .globl sum
sum:
    mov x2, #0
    cmp w1, #0
    b.le 2f
    mov w3, #0
1:  ldrsw x4, [x0, w3, sxtw #2]
    add x2, x2, x4
    add w3, w3, #1
    cmp w3, w1
    b.lt 1b
2:  mov x0, x2
    ret
"""


def test_handwritten_candidate_verifies(pair) -> None:  # type: ignore[no-untyped-def]
    ref, _ = pair(SUM, "aarch64")
    result = verify_function(ref, A64_SUM, "sum", SUM_SIG, "aarch64")
    assert result.verdict is Verdict.VERIFIED, result.detail
    assert result.coverage == 1.0
    assert result.hidden_tests > 0


@pytest.mark.parametrize(
    ("defect", "observable"),
    [
        (("b.lt 1b", "b.le 1b"), "how the call ended"),  # reads one element too many
        (("add x2, x2, x4", "sub x2, x2, x4"), "return value"),
        (("ldrsw x4", "ldr w4"), "return value"),  # zero- instead of sign-extending
        (("mov x0, x2\n", "mov x19, x2\n    mov x0, x2\n"), "calling convention"),
    ],
)
def test_defects_are_caught_with_a_counterexample(pair, defect, observable) -> None:  # type: ignore[no-untyped-def]
    ref, _ = pair(SUM, "aarch64")
    bad = A64_SUM.replace(*defect)
    result = verify_function(ref, bad, "sum", SUM_SIG, "aarch64")
    assert result.verdict is Verdict.MISMATCH
    assert result.counterexample is not None
    assert result.counterexample.observable.startswith(observable)


def test_infinite_loop_is_a_mismatch_not_a_hang(pair) -> None:  # type: ignore[no-untyped-def]
    ref, _ = pair(SUM, "riscv64")
    loop = "    .text\n    .globl sum\nsum:\n1:  j 1b\n"
    result = verify_function(ref, loop, "sum", SUM_SIG, "riscv64")
    assert result.verdict is Verdict.MISMATCH
    assert result.counterexample is not None
    assert "budget" in result.counterexample.got


def test_write_outside_buffer_is_caught(pair) -> None:  # type: ignore[no-untyped-def]
    src = "void fill(int *a, int n) { for (int i = 0; i < n; i++) a[i] = i; }"
    ref, cand = pair(src, "aarch64")
    bad = cand.replace("cmp\tw1, w2", "cmp\tw1, w2\n\tstr\twzr, [x0, x2, lsl 2]", 1)
    overflow = """
    .text
    .globl fill
fill:
    mov w2, #0
1:  cmp w2, w1
    b.gt 2f
    str w2, [x0, w2, sxtw #2]
    add w2, w2, #1
    b 1b
2:  ret
"""
    assert (
        verify_function(ref, cand, "fill", "void fill(int *a, int n)", "aarch64").verdict
        is Verdict.VERIFIED
    )
    result = verify_function(ref, overflow, "fill", "void fill(int *a, int n)", "aarch64")
    assert result.verdict is Verdict.MISMATCH
    assert result.counterexample is not None
    assert "write of unmapped a+" in result.counterexample.got
    del bad


def test_divide_trap_must_be_kept(pair) -> None:  # type: ignore[no-untyped-def]
    ref, cand = pair("int q(int a, int b) { return a / b; }", "aarch64")
    result = verify_function(ref, cand, "q", "int q(int a, int b)", "aarch64")
    assert result.verdict is Verdict.MISMATCH
    assert result.counterexample is not None
    assert result.counterexample.inputs["b"] == 0
    trapping = """
    .text
    .globl q
q:
    cbz w1, 1f
    sdiv w0, w0, w1
    ret
1:  brk #0
"""
    # INT_MIN / -1 traps on x86 too: this candidate still differs there.
    result = verify_function(ref, trapping, "q", "int q(int a, int b)", "aarch64")
    assert result.verdict is Verdict.MISMATCH
    assert result.counterexample is not None
    assert result.counterexample.inputs["b"] == -1


def test_riscv_int_return_must_be_sign_extended(pair) -> None:  # type: ignore[no-untyped-def]
    ref, _ = pair("unsigned twice(unsigned x) { return x * 2; }", "riscv64")
    unextended = "    .text\n    .globl twice\ntwice:\n    slli a0, a0, 1\n    slli a0, a0, 32\n    srli a0, a0, 32\n    ret\n"
    result = verify_function(ref, unextended, "twice", "unsigned twice(unsigned x)", "riscv64")
    assert result.verdict is Verdict.MISMATCH
    assert result.counterexample is not None
    assert "extended" in result.counterexample.got


def test_unmodelled_call_is_unverifiable(pair) -> None:  # type: ignore[no-untyped-def]
    ref, cand = pair("int puts(const char *); int hi(const char *s) { return puts(s); }", "aarch64")
    result = verify_function(ref, cand, "hi", "int hi(const char *s)", "aarch64")
    assert result.verdict is Verdict.UNVERIFIABLE
    assert "puts" in result.detail


def test_candidate_that_does_not_assemble_is_an_error(pair) -> None:  # type: ignore[no-untyped-def]
    ref, _ = pair(SUM, "aarch64")
    result = verify_function(ref, "sum:\n  frobnicate x0\n", "sum", SUM_SIG, "aarch64")
    assert result.verdict is Verdict.ERROR
    assert "CANDIDATE.s:2" in result.detail


def test_bad_reference_inputs_raise(pair) -> None:  # type: ignore[no-untyped-def]
    ref, cand = pair(SUM, "aarch64")
    with pytest.raises(FunctionNotFound, match="sum"):
        verify_function(ref, cand, "nope", SUM_SIG, "aarch64")
    with pytest.raises(PrototypeError):
        verify_function(ref, cand, "sum", "long sum(const int *a, int n", "aarch64")
    with pytest.raises(SourceError, match="SOURCE.s:1"):
        verify_function("this is not assembly\n", cand, "sum", SUM_SIG, "aarch64")


def test_same_seed_reproduces(pair) -> None:  # type: ignore[no-untyped-def]
    ref, cand = pair(SUM, "riscv64")
    first = verify_function(ref, cand, "sum", SUM_SIG, "riscv64")
    second = verify_function(ref, cand, "sum", SUM_SIG, "riscv64")
    assert first.model_dump() == second.model_dump()


@pytest.mark.parametrize(
    ("body", "got"),
    [
        ("    br x5\n", "fetch of unmapped"),  # a poisoned register as a jump target
        ("    adr x1, 1f\n    br x1\n1:  .word 0xffffffff\n", "SIGILL"),
        ("    b sum+0x100000\n", "fetch of unmapped"),
    ],
)
def test_jump_into_garbage_is_a_mismatch(pair, body: str, got: str) -> None:  # type: ignore[no-untyped-def]
    ref, _ = pair(SUM, "aarch64")
    cand = f"    .text\n    .globl sum\nsum:\n{body}"
    result = verify_function(ref, cand, "sum", SUM_SIG, "aarch64")
    assert result.verdict is Verdict.MISMATCH
    assert result.counterexample is not None
    assert result.counterexample.observable.startswith("how the call ended")
    assert got in result.counterexample.got


def test_different_seeds_give_different_tests(pair) -> None:  # type: ignore[no-untyped-def]
    from retarget.transpile.verify import VerifyOptions, derive_hidden_seed

    ref, cand = pair(SUM, "riscv64")
    first = verify_function(ref, cand, "sum", SUM_SIG, "riscv64", VerifyOptions(seed=1))
    second = verify_function(ref, cand, "sum", SUM_SIG, "riscv64", VerifyOptions(seed=2))
    assert first.verdict is second.verdict is Verdict.VERIFIED
    assert first.reference_insns != second.reference_insns
    assert derive_hidden_seed(1) != derive_hidden_seed(2) != 2


@needs_cross
def test_proposed_inputs_run_first(pair) -> None:  # type: ignore[no-untyped-def]
    # The candidate differs from the reference on one input only; a search of one run finds
    # it only if the proposed input (a model's edge case) is that run.
    ref, _ = pair("int f(int x) { return x == 123457 ? 1 : 0; }", "aarch64")
    _, wrong = pair("int f(int x) { (void)x; return 0; }", "aarch64")
    tight = SearchLimits(max_runs=1, random_seeds=0)
    options = VerifyOptions(limits=tight, hidden_tests=0, proposed=({"x": 123457},))
    result = verify_function(ref, wrong, "f", "int f(int x)", "aarch64", options)
    assert result.verdict is Verdict.MISMATCH
    assert result.counterexample is not None and result.counterexample.inputs == {"x": 123457}


def test_proposed_inputs_must_fit_the_prototype() -> None:
    plan = make_plan(parse_prototype("long total(const short *a, int n, char c)"), {"a": "n"})
    good = coerce_input(plan, {"a": [1, -2, 3], "n": 2, "c": 65})
    assert good is not None and good.values["a"] == [1, -2]  # trimmed to n
    assert coerce_input(plan, {"a": [1], "n": 1}) is None  # a parameter missing
    assert coerce_input(plan, {"a": [70000], "n": 1, "c": 0}) is None  # not a short
    assert coerce_input(plan, {"a": [], "n": -1, "c": 0}) is None  # negative length
    assert coerce_input(plan, {"a": [], "n": 0, "c": True}) is None  # a bool is no char
