"""The agent loop as one LangGraph ``StateGraph``, the same for every kind of problem.

    start (seed, no model) -> judge -> accept | give up            -> end
                                    -> repair | optimize -> tester (once)
                                       -> coder x N (Send fan-out, each evaluates its own
                                          candidate) -> judge -> ...

The state holds only plain data (candidates as dicts), so a SQLite checkpointer can store
it after every step and an interrupted run resumes where it stopped; the problem and the
model are closed over by the nodes.
"""

from __future__ import annotations

import operator
import threading
import time
from typing import Annotated, Any, Literal, TypedDict

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from pydantic import BaseModel

from retarget.agents.budget import Budget
from retarget.agents.judge import best, judge
from retarget.agents.problem import Candidate, Decision, Evaluation, ModelJudged, Problem
from retarget.agents.trace import Trace
from retarget.errors import ModelError, NoCodeError
from retarget.llm.client import Model


class AgentState(TypedDict, total=False):
    candidates: Annotated[list[dict[str, Any]], operator.add]
    started: float
    decision: dict[str, Any]
    optimized: int
    tested: bool
    test_tokens: int
    test_cost: float
    judge_tokens: int
    judge_cost: float
    judge_calls: int
    tester_answer: str
    failure: Annotated[list[str], operator.add]


class CoderTask(TypedDict):
    variant: int
    round: int
    candidates: list[dict[str, Any]]
    decision: dict[str, Any]
    tester_answer: str


OutcomeStatus = Literal["verified", "mismatch", "unverifiable", "invalid", "error", "refused"]
"""verified, or the best candidate's verdict, or "refused" when nothing was tried."""


class Outcome(BaseModel):
    """How one problem's run ended."""

    problem: str
    status: OutcomeStatus
    reason: str
    best: Candidate | None = None
    rounds: int = 0
    candidates: int = 0
    model_calls: int = 0
    tokens: int = 0
    cost: float = 0.0


class _Nodes:
    def __init__(self, problem: Problem, model: Model | None, budget: Budget, trace: Trace):
        self.problem = problem
        self.model = model
        self.budget = budget
        self.trace = trace
        self.tests_restored = False
        self.restore_lock = threading.Lock()

    def start(self, state: AgentState) -> dict[str, Any]:
        code = self.problem.seed()
        out: dict[str, Any] = {"started": time.time(), "optimized": 0, "tested": False}
        if code is not None:
            evaluation = self.problem.evaluate(code)
            seed = Candidate(code=code, origin="seed", round=0, evaluation=evaluation)
            self.trace.write(self.problem.name, "seed", verdict=evaluation.verdict,
                             detail=evaluation.detail, code=code)  # fmt: skip
            out["candidates"] = [seed.model_dump()]
        return out

    def judge(self, state: AgentState) -> dict[str, Any]:
        candidates = _candidates(state)
        if state.get("failure"):
            decision = Decision(action="give_up", reason=state["failure"][-1])
        elif self.model is None and not any(c.evaluation.verified for c in candidates):
            decision = Decision(action="give_up", reason="no model configured")
        else:
            top = best(candidates)
            plan = None
            if top is not None and top.evaluation.verified and self.model is not None:
                plan = self.problem.optimization_plan(top.evaluation)
            spent = _spent(state)
            decision = judge(plan, candidates, _round(candidates),
                             state.get("optimized", 0), self.budget, spent)  # fmt: skip
        out: dict[str, Any] = {}
        if decision.action in ("repair", "optimize") and candidates:
            decision, out = self.model_judge(state, candidates, decision)
        self.trace.write(self.problem.name, "judge", round=_round(candidates),
                         **decision.model_dump())  # fmt: skip
        optimized = state.get("optimized", 0) + (decision.action == "optimize")
        return {**out, "decision": decision.model_dump(), "optimized": optimized}

    def model_judge(
        self, state: AgentState, candidates: list[Candidate], decision: Decision
    ) -> tuple[Decision, dict[str, Any]]:
        """The model's diagnosis or plan for a problem that asks for one; the rules'
        decision stands when there is no model or the model fails."""
        top = best(candidates)
        if self.model is None or top is None or not isinstance(self.problem, ModelJudged):
            return decision, {}
        messages = self.problem.judge_messages(top, decision)
        if not messages:
            return decision, {}
        try:
            answer = self.model.complete(messages, tag=self.problem.name)
        except ModelError as exc:
            self.trace.write(self.problem.name, "judge-model", error=str(exc))
            return decision, {}
        tokens = answer.usage.prompt_tokens + answer.usage.completion_tokens
        self.trace.write(self.problem.name, "judge-model", prompt=[m.model_dump() for m in messages],
                         answer=answer.text, tokens=tokens, cost=answer.cost)  # fmt: skip
        spent = {"judge_tokens": state.get("judge_tokens", 0) + tokens,
                 "judge_calls": state.get("judge_calls", 0) + 1,
                 "judge_cost": state.get("judge_cost", 0.0) + answer.cost}  # fmt: skip
        return self.problem.read_judgement(answer.text, decision), spent

    def tester(self, state: AgentState) -> dict[str, Any]:
        messages = self.problem.tester_messages()
        if messages is None or self.model is None:
            return {"tested": True}
        try:
            answer = self.model.complete(messages, tag=self.problem.name)
        except ModelError as exc:
            self.trace.write(self.problem.name, "tester", error=str(exc))
            return {"tested": True}
        added = self.problem.add_tests(answer.text)
        self.tests_restored = True
        self.trace.write(self.problem.name, "tester", added=added, answer=answer.text)
        tokens = answer.usage.prompt_tokens + answer.usage.completion_tokens
        return {"tested": True, "test_tokens": tokens, "test_cost": answer.cost,
                "tester_answer": answer.text}  # fmt: skip

    def coder(self, state: CoderTask) -> dict[str, Any]:
        assert self.model is not None
        with self.restore_lock:  # coders run in parallel threads
            if state.get("tester_answer") and not self.tests_restored:
                # a resumed run: the tester's inputs are in the checkpoint, not the problem
                self.problem.add_tests(state["tester_answer"])
                self.tests_restored = True
        history = [Candidate.model_validate(c) for c in state["candidates"]]
        decision = Decision.model_validate(state["decision"])
        messages = self.problem.coder_messages(history, decision, state["variant"])
        try:
            answer = self.model.complete(messages, tag=self.problem.name)
        except ModelError as exc:
            self.trace.write(self.problem.name, "coder", round=state["round"], error=str(exc))
            return {"failure": [f"model failed: {exc}"]}
        try:
            code = self.problem.extract(answer.text)
            evaluation = self.problem.evaluate(code)
        except NoCodeError as exc:
            code, evaluation = "", Evaluation(verdict="invalid", detail=str(exc))
        tokens = answer.usage.prompt_tokens + answer.usage.completion_tokens
        candidate = Candidate(code=code, origin="model", round=state["round"],
                              evaluation=evaluation, tokens=tokens, cost=answer.cost)  # fmt: skip
        self.trace.write(self.problem.name, "coder", round=state["round"], variant=state["variant"],
                         verdict=evaluation.verdict, detail=evaluation.detail,
                         prompt=[m.model_dump() for m in messages], answer=answer.text,
                         tokens=tokens, cost=answer.cost, cached=answer.cached)  # fmt: skip
        return {"candidates": [candidate.model_dump()]}

    def after_judge(self, state: AgentState) -> str | list[Send]:
        action = state["decision"]["action"]
        if action in ("accept", "give_up"):
            return END
        if not state.get("tested"):
            return "tester"
        return self.fan_out(state)

    def fan_out(self, state: AgentState) -> list[Send]:
        candidates = state.get("candidates", [])
        round_ = _round([Candidate.model_validate(c) for c in candidates]) + 1
        return [
            Send(
                "coder",
                CoderTask(
                    variant=k,
                    round=round_,
                    candidates=candidates,
                    decision=state["decision"],
                    tester_answer=state.get("tester_answer", ""),
                ),
            )  # fmt: skip
            for k in range(self.budget.candidates)
        ]


def _candidates(state: AgentState) -> list[Candidate]:
    return [Candidate.model_validate(c) for c in state.get("candidates", [])]


def _round(candidates: list[Candidate]) -> int:
    return max((c.round for c in candidates), default=0)


def _spent(state: AgentState) -> tuple[int, float, float]:
    candidates = _candidates(state)
    tokens = sum(c.tokens for c in candidates) + state.get("test_tokens", 0)
    tokens += state.get("judge_tokens", 0)
    cost = sum(c.cost for c in candidates) + state.get("test_cost", 0.0)
    cost += state.get("judge_cost", 0.0)
    return tokens, cost, time.time() - state.get("started", time.time())


def build_graph(problem: Problem, model: Model | None, budget: Budget, trace: Trace) -> Any:
    """The uncompiled graph for one problem."""
    nodes = _Nodes(problem, model, budget, trace)
    graph = StateGraph(AgentState)
    graph.add_node("start", nodes.start)
    graph.add_node("judge", nodes.judge)
    graph.add_node("tester", nodes.tester)
    graph.add_node("coder", nodes.coder, input_schema=CoderTask)
    graph.add_edge(START, "start")
    graph.add_edge("start", "judge")
    graph.add_conditional_edges("judge", nodes.after_judge, ["tester", "coder", END])
    graph.add_conditional_edges("tester", nodes.fan_out, ["coder"])
    graph.add_edge("coder", "judge")
    return graph


def solve(
    problem: Problem,
    model: Model | None,
    budget: Budget,
    *,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    trace: Trace | None = None,
    thread: str | None = None,
) -> Outcome:
    """Run (or resume, with the same checkpointer and ``thread``) one problem to its end."""
    graph = build_graph(problem, model, budget, trace or Trace(None))
    app = graph.compile(checkpointer=checkpointer)
    config: dict[str, Any] = {
        "configurable": {"thread_id": thread or problem.name},
        "recursion_limit": 4 * (budget.rounds + budget.optimize_rounds) + 10,
    }
    if checkpointer is None:
        return _outcome(problem.name, app.invoke({}, config))
    # "sync": each step's checkpoint is on disk before the next step starts, so a process
    # killed mid-step (SIGKILL, OOM) resumes from the step before; the default "async"
    # writes in the background and a kill can lose the last steps.
    snapshot = app.get_state(config)
    values: dict[str, Any]
    if not snapshot.values:
        values = app.invoke({}, config, durability="sync")
    elif snapshot.next:
        values = app.invoke(None, config, durability="sync")
    else:
        values = dict(snapshot.values)
    return _outcome(problem.name, values)


def _outcome(name: str, values: dict[str, Any]) -> Outcome:
    candidates = [Candidate.model_validate(c) for c in values.get("candidates", [])]
    decision = Decision.model_validate(values["decision"])
    top = best(candidates)
    accepted = decision.action == "accept" and top is not None and top.evaluation.verified
    status: OutcomeStatus = (
        "verified" if accepted else (top.evaluation.verdict if top else "refused")
    )
    model_made = [c for c in candidates if c.origin == "model"]
    judged = values.get("judge_tokens", 0)
    return Outcome(
        problem=name,
        status=status,
        reason=decision.reason,
        best=top,
        rounds=_round(candidates),
        candidates=len(candidates),
        model_calls=len(model_made)
        + (1 if values.get("test_tokens") else 0)
        + values.get("judge_calls", 0),
        tokens=sum(c.tokens for c in candidates) + values.get("test_tokens", 0) + judged,
        cost=sum(c.cost for c in candidates)
        + values.get("test_cost", 0.0)
        + values.get("judge_cost", 0.0),
    )
