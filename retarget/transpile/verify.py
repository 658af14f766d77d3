"""The differential verifier: an x86-64 reference function against an AArch64/RISC-V candidate.

Both run in the emulator on the same generated inputs; every observable is compared. The result
is data (``VerificationResult``): a candidate that cannot be checked is *unverifiable*, never
*verified*.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from retarget.errors import FunctionNotFound, SourceError
from retarget.isa import X86_64, get_target
from retarget.sandbox.emulator import CallSetup, EndKind, Machine, RunOutcome, load_program
from retarget.testgen.inputs import (
    InputPlan,
    TestInput,
    coerce_input,
    make_plan,
    render_value,
    to_call,
)
from retarget.testgen.prototype import parse_prototype
from retarget.testgen.search import (
    BLOCKING,
    INCONCLUSIVE,
    Explored,
    SearchLimits,
    SearchResult,
    explore,
    sample,
)
from retarget.transpile.observe import Difference, compare
from retarget.transpile.shrink import shrink

MAX_FAILURES = 8
"""Failing tests collected before the smallest is picked and shrunk."""


class Verdict(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    UNVERIFIABLE = "unverifiable"
    ERROR = "error"


class Counterexample(BaseModel):
    """The smallest input found on which the candidate differs, written for a model to act on."""

    inputs: dict[str, Any]
    observable: str
    expected: str
    got: str
    hidden: bool = Field(description="found by the final check on the seed the coder never sees")

    def render(self, function: str) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.inputs.items())
        return f"{function}({args}): {self.observable}: expected {self.expected}, got {self.got}"


class VerificationResult(BaseModel):
    verdict: Verdict
    function: str
    target: str
    stage: str = Field(description="where the verdict was reached")
    detail: str
    tests: int = 0
    hidden_tests: int = 0
    coverage: float = 0.0
    blocks_hit: int = 0
    blocks_total: int = 0
    edges: int = 0
    dropped_inputs: int = 0
    reference_insns: int = 0
    candidate_insns: int = 0
    seed: int = 0
    counterexample: Counterexample | None = None


@dataclass(frozen=True)
class VerifyOptions:
    seed: int = 0
    hidden_seed: int | None = None
    """Seed of the final check; derived from ``seed`` when None (never shown to the coder)."""
    hidden_tests: int = 48
    sizes: dict[str, str] | None = None
    limits: SearchLimits = SearchLimits()
    budget: int = 1_000_000
    timeout_ms: int = 2000
    proposed: tuple[dict[str, object], ...] = ()
    """Extra inputs (parameter name -> value), e.g. a model's edge cases; those that do not
    fit the prototype are dropped."""


def derive_hidden_seed(seed: int) -> int:
    digest = hashlib.sha256(f"retarget-hidden:{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def verify_function(
    source: str,
    candidate: str,
    function: str,
    signature: str,
    target: str,
    options: VerifyOptions | None = None,
    source_name: str = "SOURCE.s",
    candidate_name: str = "CANDIDATE.s",
) -> VerificationResult:
    """Verify ``candidate`` (target assembly) against ``source`` (x86-64 assembly).

    Raises InputError subclasses for bad reference input (source, prototype, sizes); anything
    wrong with the candidate is reported in the result.
    """
    opts = options or VerifyOptions()
    isa = get_target(target)
    plan = make_plan(parse_prototype(signature), opts.sizes)
    ref_program = load_program(X86_64, source, function, source_name)
    base: dict[str, Any] = {"function": function, "target": isa.name, "seed": opts.seed}
    try:
        cand_program = load_program(isa, candidate, function, candidate_name)
    except (SourceError, FunctionNotFound) as exc:
        return VerificationResult(
            verdict=Verdict.ERROR, stage="load-candidate", detail=str(exc), **base
        )
    ref = Machine(ref_program)
    cand = Machine(cand_program)
    session = _Session(plan, ref, cand, opts)
    return session.run(base)


@dataclass
class _Check:
    """What running the candidate over one test set found."""

    failures: list[tuple[TestInput, Difference]]
    blocked: str | None = None


class _Session:
    def __init__(self, plan: InputPlan, ref: Machine, cand: Machine, opts: VerifyOptions) -> None:
        self.plan = plan
        self.ref = ref
        self.cand = cand
        self.opts = opts
        self.candidate_insns = 0

    def run_ref(self, setup: CallSetup) -> RunOutcome:
        return self.ref.run(setup, self.opts.budget, self.opts.timeout_ms)

    def run_cand(self, setup: CallSetup, reference: RunOutcome | None = None) -> RunOutcome:
        return self.cand.run(setup, self._cand_budget(reference), self.opts.timeout_ms)

    def _cand_budget(self, reference: RunOutcome | None) -> int:
        """A candidate may be slower than the reference, not unboundedly so: it gets 20x the
        reference's instructions on the same input (plus slack), within the global budget."""
        if reference is None or not reference.insns:
            return self.opts.budget
        return min(self.opts.budget, 20 * reference.insns + 10_000)

    def run(self, base: dict[str, Any]) -> VerificationResult:
        opts = self.opts
        blocks_total = len(self.ref.program.blocks.leaders)
        constants = self.ref.program.blocks.constants
        proposed = tuple(
            t for t in (coerce_input(self.plan, v) for v in opts.proposed) if t is not None
        )
        public = explore(
            self.plan, self.run_ref, blocks_total, opts.seed, opts.limits, constants, proposed
        )
        fields: dict[str, Any] = {
            **base,
            "coverage": round(public.coverage, 4),
            "blocks_hit": public.blocks_hit,
            "blocks_total": public.blocks_total,
            "edges": public.edges,
            "dropped_inputs": public.dropped,
        }
        hidden_seed = (
            derive_hidden_seed(opts.seed) if opts.hidden_seed is None else opts.hidden_seed
        )
        stages: tuple[tuple[str, bool, Callable[[], SearchResult]], ...] = (
            ("compare", False, lambda: public),
            (
                "hidden",
                True,
                lambda: sample(self.plan, self.run_ref, hidden_seed, opts.hidden_tests),
            ),
        )
        for stage, hidden, tests_for in stages:
            found = tests_for()
            fields["tests"] = fields.get("tests", 0) + len(found.tests)
            fields["reference_insns"] = fields.get("reference_insns", 0) + sum(
                t.reference.insns for t in found.tests
            )
            if hidden:
                fields["hidden_tests"] = len(found.tests)
            blocked = _reference_blocked(found)
            if blocked is not None:
                return VerificationResult(verdict=Verdict.UNVERIFIABLE, stage="reference",
                                          detail=blocked, **fields)  # fmt: skip
            check = self._check(found.tests)
            fields["candidate_insns"] = self.candidate_insns
            if check.blocked is not None:
                return VerificationResult(verdict=Verdict.UNVERIFIABLE, stage=stage,
                                          detail=check.blocked, **fields)  # fmt: skip
            if check.failures:
                return self._mismatch(check.failures, hidden, stage, fields)
        detail = (
            f"{fields['tests']} tests agree ({fields['hidden_tests']} on the hidden seed); "
            f"block coverage {public.blocks_hit}/{public.blocks_total}"
        )
        return VerificationResult(verdict=Verdict.VERIFIED, stage="done", detail=detail, **fields)

    def _check(self, tests: list[Explored]) -> _Check:
        failures: list[tuple[TestInput, Difference]] = []
        for explored in tests:
            if len(failures) >= MAX_FAILURES:
                break
            outcome = self.run_cand(to_call(self.plan, explored.test), explored.reference)
            self.candidate_insns += outcome.insns
            if outcome.end.kind in BLOCKING:
                return _Check(failures, blocked=f"the candidate {outcome.end.detail}")
            diff = compare(self.plan, explored.reference, outcome)
            if diff is not None:
                failures.append((explored.test, diff))
        return _Check(failures)

    def _mismatch(
        self,
        failures: list[tuple[TestInput, Difference]],
        hidden: bool,
        stage: str,
        fields: dict[str, Any],
    ) -> VerificationResult:
        test, diff = min(failures, key=lambda f: f[0].weight())
        test, diff = shrink(self.plan, test, diff, self._differs)
        example = Counterexample(
            inputs={k: render_value(v) for k, v in test.values.items()},
            observable=diff.observable,
            expected=diff.expected,
            got=diff.got,
            hidden=hidden,
        )
        shown = f"{len(failures)}+" if len(failures) >= MAX_FAILURES else str(len(failures))
        detail = (
            f"{shown} of {fields['tests']} tests differ; smallest: "
            f"{example.render(fields['function'])}"
        )
        return VerificationResult(verdict=Verdict.MISMATCH, stage=stage, detail=detail,
                                  counterexample=example, **fields)  # fmt: skip

    def _differs(self, test: TestInput) -> Difference | None:
        setup = to_call(self.plan, test)
        reference = self.run_ref(setup)
        if reference.end.kind in INCONCLUSIVE or reference.end.kind in BLOCKING:
            return None
        return compare(self.plan, reference, self.run_cand(setup, reference))


def _reference_blocked(result: SearchResult) -> str | None:
    if result.blocker is not None:
        end = result.blocker.end
        what = "the reference " + end.detail
        if end.kind is EndKind.SYSCALL:
            return f"{what}; functions that talk to the kernel cannot be verified here"
        return f"{what}; cannot verify what the emulator cannot model"
    if not result.tests:
        return (
            f"the reference finished on none of {result.runs} inputs within the budget "
            f"({result.dropped} ran out of instructions or time)"
        )
    return None
