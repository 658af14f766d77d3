"""What the agent graph solves: a Protocol the transpile side implements (and the kernel side
later), and the typed results that flow through the graph."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from retarget.llm.types import Message

Verdict = Literal["verified", "mismatch", "unverifiable", "invalid", "error"]
"""invalid: the static check failed (does not assemble, no code); error: the evaluation itself
failed."""


class Evaluation(BaseModel):
    """One candidate checked against the original."""

    verdict: Verdict
    detail: str = Field("", description="what the coder needs: counterexample, assembler error")
    tests: int = 0
    coverage: float | None = None
    ratio: float | None = Field(
        None,
        description="cost over the baseline's, lower is better: executed instructions over "
        "native code's (ports), runtime over eager PyTorch's (kernels)",
    )
    figures: dict[str, float | str | None] = Field(
        default_factory=dict, description="the problem's own measurements (runtimes, speedups)"
    )

    @property
    def verified(self) -> bool:
        return self.verdict == "verified"


class Candidate(BaseModel):
    code: str
    origin: Literal["seed", "model"]
    round: int
    evaluation: Evaluation
    tokens: int = 0
    cost: float = 0.0


Action = Literal["accept", "repair", "optimize", "give_up"]


class Decision(BaseModel):
    """The judge's verdict on a round."""

    action: Action
    reason: str
    feedback: str = Field("", description="for repair: the diagnosis; for optimize: the plan")
    judgement: dict[str, str] = Field(
        default_factory=dict,
        description="a model judge's structured answer: {bottleneck, method, plan} for an "
        "optimization, {diagnosis, fix} for a repair",
    )


class Problem(Protocol):
    """One unit of work: a function to port, a kernel to write."""

    @property
    def name(self) -> str: ...

    def seed(self) -> str | None:
        """A candidate made without a model (the symbolic translation), if there is one."""

    def coder_messages(self, history: list[Candidate], decision: Decision | None,
                       variant: int) -> list[Message]:  # fmt: skip
        """The prompt for a new candidate: the task, earlier candidates, the judge's words.
        ``variant`` tells parallel candidates apart."""

    def tester_messages(self) -> list[Message] | None:
        """A prompt asking for edge-case inputs, or None when the problem takes none."""

    def add_tests(self, answer: str) -> int:
        """Take the inputs a model proposed; how many were usable."""

    def extract(self, answer: str) -> str:
        """The candidate code in a model's answer (raises NoCodeError when there is none)."""

    def evaluate(self, code: str) -> Evaluation:
        """Static check, then execution against the original on the generated tests."""

    def optimization_plan(self, evaluation: Evaluation) -> str | None:
        """For a verified candidate that runs far more instructions than native code: what
        to improve; None when it is good enough."""


@runtime_checkable
class ModelJudged(Protocol):
    """A problem whose judge is also a model: after the rules decide to repair or optimize,
    the model reads the best candidate's evaluation and writes the feedback."""

    def judge_messages(self, top: Candidate, decision: Decision) -> list[Message] | None:
        """The prompt for the judge model, or None when the rules' feedback is enough."""

    def read_judgement(self, answer: str, decision: Decision) -> Decision:
        """``decision`` with the model's diagnosis or plan; unchanged when the answer cannot
        be read."""
