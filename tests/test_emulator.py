"""The emulator on its own: coverage paths agree, limits end runs, guards and models hold."""

from __future__ import annotations

import random

import pytest

from retarget.isa import X86_64, get_target
from retarget.sandbox.emulator import EndKind, Machine, load_program
from retarget.sandbox.emulator.native import native_trace_available
from retarget.testgen.inputs import TestInput, make_plan, random_input, to_call
from retarget.testgen.prototype import parse_prototype
from tests.conftest import needs_cross

pytestmark = needs_cross

SORT = """
void isort(int *a, int n) {
    for (int i = 1; i < n; i++) {
        int v = a[i], j = i - 1;
        while (j >= 0 && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}
"""
SORT_SIG = "void isort(int *a, int n)"

SPIN_A64 = "\t.text\n\t.globl spin\nspin:\n1:\tb 1b\n"


def _setups(sig: str, count: int) -> list:  # type: ignore[type-arg]
    plan = make_plan(parse_prototype(sig))
    rng = random.Random(7)
    return [to_call(plan, random_input(rng, plan)) for _ in range(count)]


@pytest.mark.skipif(not native_trace_available(), reason="no C compiler for the native hook")
@pytest.mark.parametrize("target", ["x86_64", "aarch64", "riscv64"])
def test_native_and_python_coverage_agree(pair, target: str) -> None:  # type: ignore[no-untyped-def]
    ref, cand = pair(SORT, "riscv64" if target == "x86_64" else target)
    text, isa = (ref, X86_64) if target == "x86_64" else (cand, get_target(target))
    program = load_program(isa, text, "isort", "sort.s")
    native, python = Machine(program, native=True), Machine(program, native=False)
    for setup in _setups(SORT_SIG, 12):
        a, b = native.run(setup), python.run(setup)
        assert a.end == b.end
        assert a.insns == b.insns > 0
        assert a.blocks == b.blocks
        assert a.edges == b.edges
        assert a.buffers == b.buffers


def test_untraced_run_has_the_same_results(pair) -> None:  # type: ignore[no-untyped-def]
    _, cand = pair(SORT, "aarch64")
    program = load_program(get_target("aarch64"), cand, "isort", "sort.s")
    traced, plain = Machine(program), Machine(program, trace=False)
    for setup in _setups(SORT_SIG, 6):
        a, b = traced.run(setup), plain.run(setup)
        assert a.buffers == b.buffers
        assert b.insns == 0
        assert not b.blocks


def test_instruction_budget_ends_a_loop() -> None:
    program = load_program(get_target("aarch64"), SPIN_A64, "spin", "spin.s")
    outcome = Machine(program).run(_setups("void spin(void)", 1)[0], budget=5000)
    assert outcome.end.kind is EndKind.BUDGET
    assert outcome.insns == 5000


def test_wall_clock_limit_ends_a_loop_the_budget_would_not() -> None:
    program = load_program(get_target("aarch64"), SPIN_A64, "spin", "spin.s")
    machine = Machine(program, trace=False)
    setup = _setups("void spin(void)", 1)[0]
    outcome = machine.run(setup, budget=1 << 62, timeout_ms=100)
    assert outcome.end.kind is EndKind.TIMEOUT
    # The watchdog's stop never leaks into the engine's next run.
    again = machine.run(setup, budget=1000, timeout_ms=5000)
    assert again.end.kind is EndKind.BUDGET


def test_read_past_a_buffer_hits_its_guard_page(pair) -> None:  # type: ignore[no-untyped-def]
    src = "int last(const int *a, int n) { return a[n]; }"
    _, cand = pair(src, "riscv64")
    program = load_program(get_target("riscv64"), cand, "last", "last.s")
    plan = make_plan(parse_prototype("int last(const int *a, int n)"))
    test = TestInput({"a": [1, 2, 3, 4], "n": 4})
    outcome = Machine(program).run(to_call(plan, test))
    assert outcome.end.kind is EndKind.FAULT
    assert outcome.end.where == "a+16"


def test_allocator_places_blocks_alike_on_every_isa(pair) -> None:  # type: ignore[no-untyped-def]
    src = "#include <stdlib.h>\nlong *mk(long v) { long *p = malloc(16); p[0] = v; return p; }"
    ref, cand = pair(src, "aarch64")
    plan = make_plan(parse_prototype("long *mk(long v)"))
    setup = to_call(plan, TestInput({"v": 42}))
    x86 = Machine(load_program(X86_64, ref, "mk", "mk.s")).run(setup)
    a64 = Machine(load_program(get_target("aarch64"), cand, "mk", "mk.s")).run(setup)
    assert x86.end.kind is a64.end.kind is EndKind.RETURNED
    assert x86.return_bits == a64.return_bits != 0
    assert x86.heap == a64.heap
    assert [c.name for c in x86.calls] == [c.name for c in a64.calls] == ["malloc"]


def test_poisoned_registers_fault_when_used_as_pointers() -> None:
    # Dereferencing an argument register the prototype does not give is a fault, not a read
    # of whatever the last run left there.
    text = "\t.text\n\t.globl f\nf:\n\tldr x0, [x3]\n\tret\n"
    program = load_program(get_target("aarch64"), text, "f", "f.s")
    outcome = Machine(program).run(_setups("long f(long a)", 1)[0])
    assert outcome.end.kind is EndKind.FAULT


def test_libc_model_with_a_huge_size_faults_instead_of_crashing(pair) -> None:  # type: ignore[no-untyped-def]
    src = "#include <string.h>\nvoid clr(char *a, long n) { memset(a, 1, (unsigned long)n); }"
    _, cand = pair(src, "aarch64", "-O0")
    program = load_program(get_target("aarch64"), cand, "clr", "clr.s")
    plan = make_plan(parse_prototype("void clr(char *a, long n)"), {"a": "16"})
    outcome = Machine(program).run(to_call(plan, TestInput({"a": [0] * 16, "n": -1})))
    assert outcome.end.kind is EndKind.FAULT
    assert outcome.end.where == "a+16"
