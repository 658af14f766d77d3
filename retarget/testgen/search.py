"""Coverage-guided search over the reference: keep inputs that reach new blocks or edges,
mutate them, stop when coverage stops growing or the budget ends."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from retarget.sandbox.emulator import CallSetup, EndKind, RunOutcome
from retarget.testgen.ctype import TypeKind
from retarget.testgen.inputs import (
    FLOAT32_EDGES,
    FLOAT_EDGES,
    MAX_STRING,
    InputPlan,
    ParamPlan,
    Role,
    TestInput,
    Value,
    element_type,
    int_edges,
    random_input,
    random_length,
    random_scalar,
    random_string,
    resize_buffers,
    to_call,
)

Runner = Callable[[CallSetup], RunOutcome]

INCONCLUSIVE = frozenset({EndKind.BUDGET, EndKind.TIMEOUT})
"""Reference runs that prove nothing about the candidate (the input is dropped)."""
BLOCKING = frozenset({EndKind.UNMODELLED, EndKind.EXTERN_DATA, EndKind.SYSCALL})
"""Reference runs that make the whole function unverifiable."""


@dataclass(frozen=True)
class SearchLimits:
    max_runs: int = 400
    patience: int = 80
    """Stop after this many runs in a row found nothing new."""
    max_tests: int = 400
    random_seeds: int = 16


@dataclass
class Explored:
    test: TestInput
    reference: RunOutcome
    novel: bool


@dataclass
class SearchResult:
    tests: list[Explored] = field(default_factory=list)
    blocks_hit: int = 0
    blocks_total: int = 0
    edges: int = 0
    runs: int = 0
    dropped: int = 0
    """Inputs on which the reference itself ran out of budget or time."""
    blocker: RunOutcome | None = None

    @property
    def coverage(self) -> float:
        return self.blocks_hit / self.blocks_total if self.blocks_total else 1.0


def explore(
    plan: InputPlan,
    run: Runner,
    blocks_total: int,
    seed: int,
    limits: SearchLimits,
    constants: tuple[int, ...] = (),
    proposed: tuple[TestInput, ...] = (),
) -> SearchResult:
    """``constants`` (immediates of the reference) seed the mutator, so a comparison against
    a magic value can be passed without guessing it; ``proposed`` inputs (a model's edge
    cases) run first."""
    rng = random.Random(seed)
    dictionary = search_dictionary(constants)
    result = SearchResult(blocks_total=blocks_total)
    blocks: set[int] = set()
    edges: set[tuple[int, int]] = set()
    corpus: list[TestInput] = []
    stale = 0
    queue = [t.copy() for t in proposed] + seed_inputs(rng, plan, limits.random_seeds, dictionary)
    # Patience counts only mutated inputs: the seeds all run, however many of them repeat
    # coverage, so a long seed list cannot use up the search before it starts.
    while result.runs < limits.max_runs and (queue or stale < limits.patience):
        seeded = bool(queue)
        if seeded:
            test = queue.pop(0)
        elif corpus and plan.params:
            test = mutate(rng, plan, rng.choice(corpus), dictionary)
        elif plan.params:
            test = random_input(rng, plan)
        else:
            break
        outcome = _run_reference(run, plan, test, result)
        if result.blocker is not None:
            break
        if outcome is None:
            stale += not seeded
            continue
        novel = not (outcome.blocks <= blocks and outcome.edges <= edges)
        blocks |= outcome.blocks
        edges |= outcome.edges
        if novel:
            corpus.append(test)
            stale = 0
        else:
            stale += not seeded
        result.tests.append(Explored(test, outcome, novel))
    result.blocks_hit = len(blocks)
    result.edges = len(edges)
    result.tests = _select(result.tests, limits.max_tests)
    return result


def sample(plan: InputPlan, run: Runner, seed: int, count: int) -> SearchResult:
    """Fresh random inputs only (the hidden final check): nothing learnt from the search."""
    rng = random.Random(seed)
    result = SearchResult()
    for test in seed_inputs(rng, plan, count)[: max(count, 1)]:
        outcome = _run_reference(run, plan, test, result)
        if result.blocker is not None:
            break
        if outcome is not None:
            result.tests.append(Explored(test, outcome, False))
    return result


def _run_reference(
    run: Runner, plan: InputPlan, test: TestInput, result: SearchResult
) -> RunOutcome | None:
    """Run the reference once and count it; None when the run is blocking (recorded as
    ``result.blocker``) or inconclusive (counted as dropped)."""
    outcome = run(to_call(plan, test))
    result.runs += 1
    if outcome.end.kind in BLOCKING:
        result.blocker = outcome
        return None
    if outcome.end.kind in INCONCLUSIVE:
        result.dropped += 1
        return None
    return outcome


def _select(tests: list[Explored], limit: int) -> list[Explored]:
    novel = [t for t in tests if t.novel]
    rest = [t for t in tests if not t.novel]
    return (novel + rest)[:limit]


SWEEP_BOUND = 64
"""A compared constant up to this is likely a range check (a switch's jump-table bound)."""
MAX_SWEEP = 128
EXHAUSTIVE_BITS = 8


def _int_range(p: ParamPlan) -> tuple[int, int]:
    bits = p.ctype.bits
    return (-(1 << (bits - 1)), 1 << (bits - 1)) if p.ctype.signed else (0, 1 << bits)


def search_dictionary(constants: tuple[int, ...]) -> tuple[int, ...]:
    """Values the mutator splices in (repeats weight the draw): each immediate of the
    reference, its neighbours, and the ends of range checks built from two immediates."""
    values = {c + d for c in constants for d in (-1, 0, 1)}
    # ``x - lo <= span`` (a range check such as '0'..'9'): the values just inside and just
    # outside both ends, lo - 1, lo, lo + span, lo + span + 1.
    spans = sorted({c for c in constants if 0 < c < 256})
    lows = sorted({abs(c) for c in constants if 0 < abs(c) < 256})
    for lo in lows:
        values |= {lo - 1, lo}
        values |= {lo + span + d for span in spans for d in (0, 1)}
    # The immediates themselves are drawn as often as all derived values together.
    exact = [c for c in constants for _ in range(max(1, len(values) // max(1, len(constants))))]
    return tuple(sorted(values)) + tuple(exact)


def sweep_values(dictionary: tuple[int, ...]) -> tuple[int, ...]:
    """Values each integer scalar is seeded with: the dictionary, and for a small positive
    bound every value below it (``cmp $7; ja default`` guards switch cases 0..7)."""
    values = set(dictionary)
    for c in dictionary:
        if 0 < c <= SWEEP_BOUND:
            values.update(range(c + 1))
    return tuple(sorted(values))


def seed_inputs(
    rng: random.Random, plan: InputPlan, randoms: int, dictionary: tuple[int, ...] = ()
) -> list[TestInput]:
    """A baseline, each scalar swept through a few of its edge values and the dictionary,
    then random inputs."""
    base = random_input(rng, plan)
    for p in plan.params:
        if p.role is Role.SCALAR and p.ctype.kind is not TypeKind.FLOAT:
            base.values[p.name] = 1
        if p.role is Role.LENGTH:
            base.values[p.name] = 8
    resize_buffers(rng, plan, base)
    out = [base]
    for p in plan.params:
        if p.role is Role.STRING:
            for text in _string_seeds(dictionary):
                test = base.copy()
                test.values[p.name] = text
                out.append(test)
        if p.role is not Role.SCALAR:
            continue
        sweep: list[int | float] = list(_edge_sample(rng, p))
        if p.ctype.kind is TypeKind.INT and p.ctype.bits <= EXHAUSTIVE_BITS:
            # A char has 256 values: try them all rather than guess.
            sweep += sorted(set(range(*_int_range(p))) - set(sweep))
        elif p.ctype.kind is TypeKind.INT and dictionary:
            fitted = sorted({_fit(p, c) for c in sweep_values(dictionary)} - set(sweep), key=abs)
            sweep += fitted[:MAX_SWEEP]
        for value in sweep:
            test = base.copy()
            test.values[p.name] = value
            out.append(test)
    out += _edge_grid(plan, base)
    out += _equal_pairs(plan, base)
    out += [random_input(rng, plan) for _ in range(randoms)]
    return out


SHAPED_STRINGS = ("aa", "aba", "abba", "abcba", "abccba", "abcab", "abcda", "a  a", "xyzzy")
"""Symmetric and nearly symmetric text, which random strings almost never are."""


def _string_seeds(dictionary: tuple[int, ...]) -> list[str]:
    """Each printable character the reference compares against placed in numeric text (a
    parser's range checks: ':' right after '9', '/' right before '0'), then shaped text."""
    chars = sorted({chr(c) for c in dictionary if 32 <= c < 127})
    # Numeric text around each character: alone, between digits, after a space, after a sign.
    templates = ("{c}", "7{c}7", " {c}12", "-{c}2", "-1{c}2")
    return [t.replace("{c}", c) for c in chars for t in templates] + list(SHAPED_STRINGS)


def _edge_grid(plan: InputPlan, base: TestInput) -> list[TestInput]:
    """Every pair of integer scalars through the values where ISAs disagree most
    (x86 traps on INT_MIN / -1, shifts by the width, and so on)."""
    ints = [p for p in plan.params
            if p.role is Role.SCALAR and p.ctype.kind is TypeKind.INT][:4]  # fmt: skip
    out: list[TestInput] = []
    for i, p in enumerate(ints):
        for q in ints[i + 1 :]:
            for a in _critical(p):
                for b in _critical(q):
                    test = base.copy()
                    test.values[p.name], test.values[q.name] = a, b
                    out.append(test)
    return out


def _equal_pairs(plan: InputPlan, base: TestInput) -> list[TestInput]:
    """Scalars of one kind set equal (and +0.0 against -0.0): equality branches are where
    random values almost never land."""
    scalars = [p for p in plan.params if p.role is Role.SCALAR][:6]
    out: list[TestInput] = []
    for i, p in enumerate(scalars):
        for q in scalars[i + 1 :]:
            if p.ctype.kind is not q.ctype.kind:
                continue
            floats = p.ctype.kind is TypeKind.FLOAT
            pairs: list[tuple[Value, Value]] = [(base.values[p.name], base.values[p.name])]
            pairs += [(0.0, -0.0), (1.0, 1.0)] if floats else [(0, 0), (-1, -1)]
            for a, b in pairs:
                test = base.copy()
                test.values[p.name], test.values[q.name] = a, b
                out.append(test)
    return out


def _critical(p: ParamPlan) -> list[int]:
    edges = int_edges(p.ctype)
    picked = {0, edges[0], edges[-1]} | ({-1} if p.ctype.signed else {p.ctype.bits})
    return sorted(picked)


def _edge_sample(rng: random.Random, p: ParamPlan) -> list[int | float]:
    if p.ctype.kind is TypeKind.FLOAT:
        return list(FLOAT32_EDGES if p.ctype.bits == 32 else FLOAT_EDGES)
    if p.ctype.kind is TypeKind.BOOL:
        return [0, 1]
    edges: list[int | float] = list(int_edges(p.ctype))
    head = [v for v in edges if v in (0, -1, 2) or v == edges[0] or v == edges[-1]]
    return head + rng.sample(edges, min(3, len(edges)))


def mutate(
    rng: random.Random, plan: InputPlan, parent: TestInput, dictionary: tuple[int, ...] = ()
) -> TestInput:
    test = parent.copy()
    strings = [p.name for p in plan.params if p.role is Role.STRING]
    if len(strings) >= 2 and rng.random() < 0.25:
        # Equal or nearly equal strings reach the paths that compare them.
        src, dst = rng.sample(strings, 2)
        value = test.values[src]
        assert isinstance(value, str)
        test.values[dst] = value if rng.random() < 0.5 else _mutate_string(rng, value)
        return test
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        p = rng.choice(plan.params)
        chars = [c for c in dictionary if 0 < c < 256]
        if p.role is Role.STRING and chars and rng.random() < 0.4:
            # Splice a character the reference compares against ('-', '+', '%').
            value = test.values[p.name]
            assert isinstance(value, str)
            at = 0 if rng.random() < 0.5 else rng.randint(0, len(value))
            # Insert, or overwrite (a digit run keeps its length when its end becomes ':').
            rest = value[at + 1 :] if rng.random() < 0.5 else value[at:]
            test.values[p.name] = (value[:at] + chr(rng.choice(chars)) + rest)[:MAX_STRING]
            continue
        if (
            dictionary
            and p.role is Role.SCALAR
            and p.ctype.kind is not TypeKind.FLOAT
            and (rng.random() < 0.3)
        ):
            test.values[p.name] = _fit(p, rng.choice(dictionary))
            continue
        test.values[p.name] = _mutate_value(rng, p, test.values[p.name])
    resize_buffers(rng, plan, test)
    return test


def _fit(p: ParamPlan, value: int) -> int:
    """A dictionary value as this parameter's type would hold it."""
    bits = p.ctype.bits
    value &= (1 << bits) - 1
    if p.ctype.signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def _mutate_value(rng: random.Random, p: ParamPlan, value: Value) -> Value:
    if p.role is Role.LENGTH:
        assert isinstance(value, int)
        return rng.choice([random_length(rng), max(0, value - 1), value + 1, 0])
    if p.role is Role.SCALAR:
        return _mutate_scalar(rng, p, value)
    if p.role is Role.STRING:
        assert isinstance(value, str)
        return _mutate_string(rng, value)
    assert isinstance(value, list)
    return _mutate_buffer(rng, p, value)


def _mutate_scalar(rng: random.Random, p: ParamPlan, value: Value) -> int | float:
    if p.ctype.kind is TypeKind.FLOAT or rng.random() < 0.4:
        return random_scalar(rng, p.ctype)
    assert isinstance(value, int)
    bits = p.ctype.bits
    choice = rng.randrange(4)
    new = [value + rng.choice((-1, 1)), value ^ (1 << rng.randrange(bits)), -value,
           rng.choice(int_edges(p.ctype))][choice]  # fmt: skip
    lo = -(1 << (bits - 1)) if p.ctype.signed else 0
    return max(lo, min(new, (1 << (bits - (1 if p.ctype.signed else 0))) - 1))


def _mutate_string(rng: random.Random, value: str) -> str:
    op = rng.randrange(6)
    if op == 0 or not value:
        return random_string(rng)
    if op == 5:
        # Mirrored and repeated halves reach comparisons between positions (palindromes).
        half = value[: max(1, len(value) // 2)]
        return (half + half[::-1][rng.randrange(2) :])[:MAX_STRING]
    i = rng.randrange(len(value))
    if op == 1:
        return value[:i] + random_string(rng, 1)[:1] + value[i + 1 :]
    if op == 2:
        return value[:i] + value[i + 1 :]
    if op == 3:
        return value[:i]
    return value[:i] + value[i] + value[i:]


def _mutate_buffer(
    rng: random.Random, p: ParamPlan, value: list[int] | list[float]
) -> list[int] | list[float]:
    buf: list[Any] = list(value)
    if not buf:
        return buf
    elem = element_type(p)
    op = rng.randrange(5)
    i = rng.randrange(len(buf))
    if op <= 1:
        buf[i] = random_scalar(rng, elem)
    elif op == 2:
        j = rng.randrange(len(buf))
        buf[i], buf[j] = buf[j], buf[i]
    elif op == 3:
        buf.sort(key=lambda v: (v != v, v))
        if rng.random() < 0.5:
            buf.reverse()
    else:
        buf[i:] = [buf[i]] * (len(buf) - i)
    return buf
