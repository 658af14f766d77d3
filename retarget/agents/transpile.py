"""The transpile problem: one x86-64 function to port, seeded by the symbolic translator and
checked by the differential verifier."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from retarget.agents import prompts
from retarget.agents.problem import Candidate, Decision, Evaluation
from retarget.errors import InputError, NoCodeError
from retarget.llm.extract import extract_code, json_objects
from retarget.llm.types import Message
from retarget.testgen.inputs import coerce_input, make_plan, parse_sizes
from retarget.testgen.prototype import parse_prototype
from retarget.transpile.symbolic.translate import translate_source
from retarget.transpile.verify import Verdict, VerifyOptions, verify_function

ASM_TAGS = ("asm", "s", "gas", "assembly", "armasm", "aarch64", "arm64", "riscv", "riscv64")
DATA_SECTION = re.compile(r"^\s*(\.data|\.bss|\.section\s+\.(rodata|data|bss)\S*)")
TEXT_SECTION = re.compile(r"^\s*(\.text|\.section\s+\.text\S*)")


@dataclass
class FunctionTask:
    """One function of a repository's assembly file."""

    path: str
    """The file, relative to the repository (it names the problem)."""
    source: str
    function: str
    prototype: str
    target: str
    sizes: str = ""
    """Buffer sizes as ``retarget verify --sizes`` takes them: ``a=n,b=16``."""
    signatures: dict[str, str] = field(default_factory=dict)
    """Prototypes of the other functions of the file (calls between them)."""


def function_text(source: str, function: str) -> str:
    """The lines of ``function`` in an assembly file: from its label to its ``.size``."""
    lines = source.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == f"{function}:"), None)
    if start is None:
        raise InputError(f"function {function!r} has no label in the file")
    out = []
    for line in lines[start:]:
        out.append(line)
        if re.match(rf"\s*\.size\s+{re.escape(function)}\b", line):
            break
    return "\n".join(out) + "\n"


def data_text(source: str) -> str:
    """The file's data sections (GNU directives read the same on every target)."""
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        if DATA_SECTION.match(line):
            inside = True
        elif TEXT_SECTION.match(line):
            inside = False
        if inside:
            out.append(line)
    return "\n".join(out) + ("\n" if out else "")


class TranspileProblem:
    """Implements ``retarget.agents.problem.Problem`` for one function."""

    def __init__(self, task: FunctionTask, ratio_limit: float = 3.0, seed: int = 0) -> None:
        self.task = task
        self.ratio_limit = ratio_limit
        self.seed_value = seed
        self.proposed: list[dict[str, object]] = []
        signatures = {**task.signatures, task.function: task.prototype}
        self.symbolic = translate_source(task.source, task.target, task.path,
                                         only=task.function, signatures=signatures)  # fmt: skip
        status = next(f for f in self.symbolic.functions if f.name == task.function)
        self.refusal = "" if status.translated else status.reason
        self.plan = make_plan(parse_prototype(task.prototype), parse_sizes(task.sizes) or None)

    @property
    def name(self) -> str:
        return f"{self.task.path}:{self.task.function}"

    def seed(self) -> str | None:
        return None if self.refusal else self.symbolic.assembly

    def coder_messages(
        self, history: list[Candidate], decision: Decision | None, variant: int
    ) -> list[Message]:
        shown = [(c.code, f"{c.origin}, {c.evaluation.verdict}") for c in history if c.code]
        t = self.task
        return prompts.coder_messages(
            t.target, t.function, t.prototype, function_text(t.source, t.function),
            data_text(t.source), self.refusal, shown,
            decision.feedback if decision else "", variant,
        )  # fmt: skip

    def tester_messages(self) -> list[Message] | None:
        t = self.task
        x86 = function_text(t.source, t.function)
        return prompts.tester_messages(t.function, t.prototype, x86, parse_sizes(t.sizes))

    def add_tests(self, answer: str) -> int:
        """Keep the proposed inputs that fit the prototype; the rest are dropped."""
        self.proposed += [i for i in json_objects(answer) if coerce_input(self.plan, i)]
        return len(self.proposed)

    def extract(self, answer: str) -> str:
        code = extract_code(answer, ASM_TAGS)
        if f"{self.task.function}:" not in code:
            raise NoCodeError(f"the answer's code does not define {self.task.function}:")
        return code

    def evaluate(self, code: str) -> Evaluation:
        t = self.task
        options = VerifyOptions(
            seed=self.seed_value, sizes=parse_sizes(t.sizes) or None, proposed=tuple(self.proposed)
        )
        result = verify_function(t.source, code, t.function, t.prototype, t.target, options,
                                 t.path, "candidate.s")  # fmt: skip
        detail = result.detail
        if result.counterexample is not None:
            detail = f"Counterexample: {result.counterexample.render(t.function)}\n{detail}"
        invalid = result.verdict is Verdict.ERROR and result.stage == "load-candidate"
        verdict = "invalid" if invalid else result.verdict.value
        ratio = None
        if result.verdict is Verdict.VERIFIED and result.reference_insns:
            ratio = round(result.candidate_insns / result.reference_insns, 3)
        return Evaluation(verdict=verdict, detail=detail, tests=result.tests + result.hidden_tests,
                          coverage=result.coverage, ratio=ratio)  # fmt: skip

    def optimization_plan(self, evaluation: Evaluation) -> str | None:
        if evaluation.ratio is None or evaluation.ratio <= self.ratio_limit:
            return None
        return (
            f"The port is correct but executes {evaluation.ratio:.1f}x the instructions of the "
            "x86-64 original on the same tests. Keep it exact and make it faster: keep values "
            "in registers, use the target's addressing modes and fused compare-and-branch."
        )
