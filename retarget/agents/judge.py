"""The judge: reads a round's verification results and decides what happens next."""

from __future__ import annotations

from retarget.agents.budget import Budget
from retarget.agents.problem import Candidate, Decision

PREFERENCE = {"verified": 0, "mismatch": 1, "unverifiable": 2, "error": 3, "invalid": 4}
"""Which failure tells the coder most: a counterexample beats an assembler error."""


def best(candidates: list[Candidate]) -> Candidate | None:
    """The verified candidate with the lowest instruction ratio, else the most informative
    failure (latest first among equals)."""
    if not candidates:
        return None

    def rank(c: Candidate) -> tuple[int, float, int]:
        ratio = c.evaluation.ratio if c.evaluation.ratio is not None else float("inf")
        return PREFERENCE[c.evaluation.verdict], ratio, -c.round

    return min(candidates, key=rank)


def judge(
    problem_plan: str | None,
    candidates: list[Candidate],
    round_: int,
    optimized: int,
    budget: Budget,
    spent: tuple[int, float, float],
) -> Decision:
    """``candidates``: everything so far; ``round_``: coder rounds done; ``optimized``: of
    which optimization rounds; ``spent``: tokens, cost, seconds. ``problem_plan`` is the
    problem's optimization plan for the best verified candidate (None: good enough)."""
    top = best(candidates)
    limit = budget.exhausted(round_, *spent)
    if top is not None and top.evaluation.verified:
        if problem_plan and limit is None and optimized < budget.optimize_rounds:
            return Decision(action="optimize", reason="verified, but slow", feedback=problem_plan)
        return Decision(action="accept", reason=f"verified ({top.origin}, round {top.round})")
    if limit is not None:
        return Decision(action="give_up", reason=limit)
    if top is None:
        return Decision(action="repair", reason="no candidate yet", feedback="")
    detail = top.evaluation.detail or top.evaluation.verdict
    return Decision(
        action="repair",
        reason=f"best candidate: {top.evaluation.verdict}",
        feedback=f"The previous candidate failed ({top.evaluation.verdict}):\n{detail}",
    )
