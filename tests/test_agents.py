"""The agent graph on a toy problem, with the real model client against the replay server.

The toy problem asks for a list of numbers sorted; its "code" is data, so nothing a model
writes is executed here."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver

from retarget.agents.budget import Budget
from retarget.agents.graph import solve
from retarget.agents.judge import best, judge
from retarget.agents.problem import Candidate, Decision, Evaluation
from retarget.agents.trace import Trace
from retarget.agents.transpile import FunctionTask, TranspileProblem
from retarget.llm.client import OpenAIModel
from retarget.llm.extract import extract_code
from retarget.llm.types import Message
from tests.conftest import needs_cross

NUMBERS = [5, 3, 9, 1]


class SortProblem:
    """Candidates are lists of numbers; verified when they are NUMBERS sorted."""

    def __init__(self, seed: str | None = None, kill_on: int | None = None) -> None:
        self._seed = seed
        self.kill_on = kill_on
        self.evaluations = 0
        self.extra: list[Any] = []

    @property
    def name(self) -> str:
        return "sort"

    def seed(self) -> str | None:
        return self._seed

    def coder_messages(
        self, history: list[Candidate], decision: Decision | None, variant: int
    ) -> list[Message]:
        feedback = decision.feedback if decision else ""
        text = f"sort {NUMBERS} (candidate {variant})\n{feedback}"
        return [Message(role="user", content=text)]

    def tester_messages(self) -> list[Message] | None:
        return [Message(role="user", content="propose edge cases for sorting")]

    def add_tests(self, answer: str) -> int:
        self.extra = json.loads(extract_code(answer))
        return len(self.extra)

    def extract(self, answer: str) -> str:
        return extract_code(answer)

    def evaluate(self, code: str) -> Evaluation:
        self.evaluations += 1
        if self.kill_on is not None and self.evaluations == self.kill_on:
            os._exit(9)  # the process dies as under SIGKILL: nothing is flushed or unwound
        try:
            got = json.loads(code)
        except ValueError:
            return Evaluation(verdict="invalid", detail="not a JSON list")
        want = sorted(NUMBERS)
        if got == want:
            return Evaluation(verdict="verified", tests=1, ratio=1.0)
        return Evaluation(verdict="mismatch", detail=f"counterexample: got {got}, want {want}")

    def optimization_plan(self, evaluation: Evaluation) -> str | None:
        return None


def answer(numbers: list[int]) -> str:
    return f"Here it is:\n```json\n{json.dumps(numbers)}\n```\n"


RIGHT, WRONG = answer(sorted(NUMBERS)), answer([1, 3, 5])


TESTS = {"match": "edge cases", "content": "```json\n[[], [1], [2, 1]]\n```", "repeat": True}


def test_a_verified_seed_needs_no_model() -> None:
    outcome = solve(SortProblem(seed=json.dumps([1, 3, 5, 9])), None, Budget())
    assert (outcome.status, outcome.model_calls, outcome.best and outcome.best.origin) == (
        "verified", 0, "seed")  # fmt: skip


def test_without_a_model_a_failing_seed_is_given_up() -> None:
    outcome = solve(SortProblem(seed="[9]"), None, Budget())
    assert (outcome.status, outcome.reason) == ("mismatch", "no model configured")


def test_the_judge_feeds_the_counterexample_back(serve: Any, tmp_path: Path) -> None:
    server, model = serve([TESTS, {"match": "counterexample", "content": RIGHT},
                           {"content": WRONG}])  # fmt: skip
    problem = SortProblem()
    trace = Trace(tmp_path / "trace.jsonl")
    outcome = solve(problem, model, Budget(candidates=1), trace=trace)
    assert (outcome.status, outcome.rounds) == ("verified", 2)
    assert problem.extra == [[], [1], [2, 1]]  # the tester's inputs reached the problem
    coder_prompts = [r["messages"][0]["content"] for r in server.requests[1:]]
    assert "counterexample: got [1, 3, 5]" in coder_prompts[1]
    steps = [
        json.loads(line)["step"] for line in (tmp_path / "trace.jsonl").read_text().splitlines()
    ]
    assert steps == ["judge", "tester", "coder", "judge", "coder", "judge"]


def test_parallel_candidates_keep_the_verified_one(serve: Any) -> None:
    _server, model = serve([TESTS, {"match": "candidate 0", "content": WRONG},
                           {"match": "candidate 1", "content": RIGHT}])  # fmt: skip
    outcome = solve(SortProblem(), model, Budget(candidates=2))
    assert (outcome.status, outcome.rounds, outcome.candidates) == ("verified", 1, 2)
    assert outcome.best is not None and json.loads(outcome.best.code) == sorted(NUMBERS)


def test_the_budget_stops_a_hopeless_run(serve: Any) -> None:
    _server, model = serve([TESTS, {"content": WRONG, "repeat": True}])
    outcome = solve(SortProblem(), model, Budget(rounds=3, candidates=1))
    assert outcome.status == "mismatch"
    assert "round budget" in outcome.reason
    assert outcome.rounds == 3


def test_a_killed_run_resumes_without_redoing_finished_rounds(serve: Any, tmp_path: Path) -> None:
    server, model = serve([TESTS, {"match": "counterexample", "content": RIGHT, "repeat": True},
                           {"content": WRONG}])  # fmt: skip
    path = tmp_path / "checkpoints.sqlite"
    child = multiprocessing.get_context("fork").Process(
        target=_die_in_round_two, args=(model, path)
    )
    child.start()
    child.join()
    assert child.exitcode == 9
    saver = SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))
    before = len(server.requests)
    outcome = solve(SortProblem(), model, Budget(candidates=1), checkpointer=saver)
    assert outcome.status == "verified"
    # Only the interrupted round-2 request is made again: tester and round 1 are not.
    assert len(server.requests) == before + 1
    again = solve(SortProblem(), model, Budget(candidates=1), checkpointer=saver)
    assert again.status == "verified" and len(server.requests) == before + 1  # finished: no calls


def _die_in_round_two(model: OpenAIModel, path: Path) -> None:
    saver = SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))
    solve(SortProblem(kill_on=2), model, Budget(candidates=1), checkpointer=saver)


def test_judge_rules() -> None:
    ok = Candidate(
        code="", origin="model", round=1, evaluation=Evaluation(verdict="verified", ratio=3.0)
    )
    bad = Candidate(
        code="", origin="seed", round=0, evaluation=Evaluation(verdict="mismatch", detail="x")
    )
    budget = Budget(rounds=2)
    assert judge(None, [bad], 0, 0, budget, (0, 0.0, 0.0)).action == "repair"
    assert judge(None, [bad], 2, 0, budget, (0, 0.0, 0.0)).action == "give_up"
    assert judge("fewer loads", [bad, ok], 1, 0, budget, (0, 0.0, 0.0)).action == "optimize"
    assert judge("fewer loads", [bad, ok], 1, 1, budget, (0, 0.0, 0.0)).action == "accept"
    assert judge(None, [bad], 0, 0, Budget(tokens=10), (10, 0.0, 0.0)).reason.startswith("token")
    assert best([bad, ok]) is ok


SUM4_GOOD = """\t.text
\t.globl\tsum4
\t.type\tsum4, %function
sum4:
\tldp\tw1, w4, [x0]
\tldp\tw3, w2, [x0, 8]
\tadd\tw0, w1, w4
\tadd\tw0, w0, w3
\tadd\tw0, w0, w2
\tret
\t.size\tsum4, .-sum4
"""
SUM4_BAD = SUM4_GOOD.replace("add\tw0, w0, w2", "sub\tw0, w0, w2")


@needs_cross
def test_a_refused_function_is_ported_by_the_model_in_round_two(serve: Any, tmp_path: Path) -> None:
    source = (Path(__file__).parent / "data" / "repo_sum4" / "lib" / "sum4.s").read_text()
    task = FunctionTask(path="lib/sum4.s", source=source, function="sum4",
                        prototype="int sum4(const int *a)", target="aarch64", sizes="a=4")  # fmt: skip
    problem = TranspileProblem(task)
    assert problem.seed() is None and "PSHUFD" in problem.refusal  # packed SSE: refused
    server, model = serve([
        {"match": "Propose up to", "content": '```json\n[{"a": [1, 2, 3, 4]}, {"a": [-1]}]\n```'},
        {"match": "Counterexample", "content": f"Fixed:\n```asm\n{SUM4_GOOD}```"},
        {"content": f"```asm\n{SUM4_BAD}```"},
    ])  # fmt: skip
    trace = Trace(tmp_path / "trace.jsonl")
    outcome = solve(problem, model, Budget(candidates=1), trace=trace)
    assert (outcome.status, outcome.rounds, outcome.model_calls) == ("verified", 2, 3)
    assert outcome.best is not None and outcome.best.origin == "model"
    assert problem.proposed == [{"a": [1, 2, 3, 4]}, {"a": [-1]}]
    second = server.requests[2]["messages"][1]["content"]
    assert "Counterexample: sum4(a=" in second and "PSHUFD" in second


def test_a_resumed_coder_gets_the_testers_inputs_back_from_the_state(serve: Any) -> None:
    from retarget.agents.graph import CoderTask, _Nodes

    _, model = serve([{"content": RIGHT}])
    problem = SortProblem()
    nodes = _Nodes(problem, model, Budget(), Trace(None))
    task = CoderTask(variant=0, round=1, candidates=[], decision={"action": "repair",
                     "reason": "no candidate yet"}, tester_answer=answer([0, -1]))  # fmt: skip
    out = nodes.coder(task)
    assert problem.extra == [0, -1]
    assert out["candidates"][0]["evaluation"]["verdict"] == "verified"


def test_without_a_model_a_verified_seed_is_accepted_even_when_it_could_be_faster() -> None:
    class Slow(SortProblem):
        def optimization_plan(self, evaluation: Evaluation) -> str | None:
            return "make it faster"

    outcome = solve(Slow(seed=json.dumps(sorted(NUMBERS))), None, Budget())
    assert outcome.status == "verified" and outcome.model_calls == 0
