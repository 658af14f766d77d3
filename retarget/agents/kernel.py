"""The kernel problem: one KernelBench task, a backend, the sandboxed evaluator as the check.

- seed: the candidate made from torch.compile's code for the reference, when one can be made
  (``retarget.kernelgen.seed``), so the loop runs with no model at all;
- coder: writes ``ModelNew`` from the task, the evaluator's rules, earlier candidates and the
  judge's feedback;
- tester: proposes task variants (other sizes, scaled inputs) that every later candidate
  must also pass;
- judge: the rules decide (accept, repair, optimize, give up); with a model, the model reads
  the evaluation and profile and writes ``{diagnosis, fix}`` or ``{bottleneck, method,
  plan}`` for the coder.
"""

from __future__ import annotations

from typing import Any

from retarget.agents import kernel_prompts
from retarget.agents.problem import Candidate, Decision, Evaluation, Verdict
from retarget.errors import InputError, NoCodeError
from retarget.kernelgen.evaluate import EvalOptions, KernelEvaluation, evaluate
from retarget.kernelgen.feedback import summarize
from retarget.kernelgen.static import BackendName
from retarget.kernelgen.task import KernelTask
from retarget.kernelgen.variants import Variant, apply_variant, check_variant, shape_constants
from retarget.llm.extract import extract_code, json_objects, json_values
from retarget.llm.types import Message

PY_TAGS = ("python", "py", "python3")
MAX_VARIANTS = 3
JUDGE_KEYS = {
    "optimize": ("bottleneck", "method", "plan"),
    "repair": ("diagnosis", "fix"),
}


def verdict_of(ev: KernelEvaluation) -> Verdict:
    """The evaluator's verdict in the graph's terms."""
    if ev.verdict == "correct":
        return "verified"
    if ev.verdict == "unverified":
        return "unverifiable"
    return "invalid" if ev.stage in ("static", "build") else "mismatch"


def figures_of(ev: KernelEvaluation) -> dict[str, float | str | None]:
    return {
        "runtime_ms": ev.runtime_ms,
        "eager_ms": ev.eager_ms,
        "compile_ms": ev.compile_ms,
        "speedup_vs_eager": ev.speedup_vs_eager,
        "speedup_vs_compile": ev.speedup_vs_compile,
        "device": ev.device,
        "stage": ev.stage,
    }


class KernelProblem:
    """Implements ``Problem`` and ``ModelJudged`` for one task and backend."""

    def __init__(
        self,
        task: KernelTask,
        backend: BackendName,
        options: EvalOptions | None = None,
        target_speedup: float = 1.5,
    ) -> None:
        self.task = task
        self.backend = backend
        self.options = options or EvalOptions()
        self.target_speedup = target_speedup
        self.variants: list[Variant] = []
        self.seed_note = ""

    @property
    def name(self) -> str:
        return f"{self.task.name}:{self.backend}"

    def seed(self) -> str | None:
        from retarget.kernelgen.seed import compile_seed

        made = compile_seed(self.task, self.backend, self.options)
        if made.source is None:
            self.seed_note = f"No seed candidate: {made.reason}"
        return made.source

    def coder_messages(
        self, history: list[Candidate], decision: Decision | None, variant: int
    ) -> list[Message]:
        shown = [(c.code, f"{c.origin}, round {c.round}: {c.evaluation.verdict}")
                 for c in history if c.code]  # fmt: skip
        feedback = decision.feedback if decision else ""
        return kernel_prompts.coder_messages(self.task.source, self.backend, self.seed_note,
                                             shown, feedback, variant)  # fmt: skip

    def tester_messages(self) -> list[Message] | None:
        constants = shape_constants(self.task)
        return kernel_prompts.tester_messages(self.task.source, constants)

    def add_tests(self, answer: str) -> int:
        """Keep the proposed variants that are within bounds (at most three)."""
        for item in json_objects(answer):
            variant = check_variant(self.task, item)
            if variant is not None and variant not in self.variants:
                self.variants.append(variant)
        self.variants = self.variants[:MAX_VARIANTS]
        return len(self.variants)

    def extract(self, answer: str) -> str:
        code = extract_code(answer, PY_TAGS)
        if "class ModelNew" not in code:
            raise NoCodeError("the answer's code does not define class ModelNew")
        return code

    def evaluate(self, code: str) -> Evaluation:
        ev = evaluate(self.task, code, self.backend, self.options)
        failed = self._variants_fail(code) if ev.verdict == "correct" else None
        if failed is not None:
            label, wrong = failed
            return Evaluation(verdict=verdict_of(wrong), tests=ev.trials + wrong.trials,
                              detail=f"correct on the task, but on the variant ({label}): "
                                     f"{wrong.reason}\n{summarize(wrong)}",
                              figures=figures_of(wrong))  # fmt: skip
        ratio = None
        if ev.verdict == "correct" and ev.runtime_ms and ev.eager_ms:
            ratio = round(ev.runtime_ms / ev.eager_ms, 4)
        return Evaluation(verdict=verdict_of(ev), detail=summarize(ev), tests=ev.trials,
                          ratio=ratio, figures=figures_of(ev))  # fmt: skip

    def _variants_fail(self, code: str) -> tuple[str, KernelEvaluation] | None:
        """The first variant the candidate fails, checked without timing."""
        quick = self.options.model_copy(update={"time_it": False, "profile": False,
                                                "seeds": min(self.options.seeds, 2)})  # fmt: skip
        for variant in list(self.variants):
            try:
                ev = evaluate(apply_variant(self.task, variant), code, self.backend, quick)
            except InputError:  # the reference itself fails on it: the variant is dropped
                self.variants.remove(variant)
                continue
            if ev.verdict != "correct":
                return variant.label(), ev
        return None

    def optimization_plan(self, evaluation: Evaluation) -> str | None:
        speedup = evaluation.figures.get("speedup_vs_eager")
        if not isinstance(speedup, float) or speedup >= self.target_speedup:
            return None
        compiled = evaluation.figures.get("speedup_vs_compile")
        against = f" and {compiled:.2f}x torch.compile" if isinstance(compiled, float) else ""
        return (
            f"The candidate is correct but runs at {speedup:.2f}x eager PyTorch{against}; the "
            f"goal is {self.target_speedup:.2f}x. Its evaluation:\n{evaluation.detail}\n"
            "Make it faster while keeping it exact: fuse passes over memory, vectorize the "
            "inner loops, parallelize over the outer dimension, and block for the caches."
        )

    def judge_messages(self, top: Candidate, decision: Decision) -> list[Message] | None:
        if not top.code:
            return None
        return kernel_prompts.judge_messages(self.task.source, top.code, top.evaluation.detail,
                                             top.evaluation.verified)  # fmt: skip

    def read_judgement(self, answer: str, decision: Decision) -> Decision:
        keys = JUDGE_KEYS.get(decision.action)
        parsed = _json_object(answer)
        if keys is None or parsed is None or not all(isinstance(parsed.get(k), str) for k in keys):
            return decision
        judgement = {k: str(parsed[k]) for k in keys}
        lines = [f"{k.capitalize()}: {judgement[k]}" for k in keys]
        feedback = "The judge's reading of the best candidate:\n" + "\n".join(lines)
        if decision.feedback:
            feedback += f"\n\n{decision.feedback}"
        return decision.model_copy(update={"feedback": feedback, "judgement": judgement})


def _json_object(answer: str) -> dict[str, Any] | None:
    """The answer's last JSON object."""
    found = [v for v in json_values(answer) if isinstance(v, dict)]
    return found[-1] if found else None
