"""The kernel problem in the agent graph, for real: candidates from the real model client (against
the replay server) evaluated in the sandbox; task variants from the tester; the model judge's
diagnosis reaching the coder; ``retarget kernel optimize`` offline and resumed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch", reason="the kernel side needs torch: scripts/setup.sh installs it")

from retarget.agents.budget import Budget
from retarget.agents.graph import solve
from retarget.agents.kernel import KernelProblem
from retarget.agents.problem import Decision
from retarget.agents.trace import Trace
from retarget.kernelgen.evaluate import EvalOptions
from retarget.kernelgen.harness import Timing
from retarget.kernelgen.profile import ProfileRow, parse_ncu_csv, profile_lines
from retarget.kernelgen.task import KernelTask, load_task
from retarget.kernelgen.variants import Variant, apply_variant, check_variant, shape_constants
from retarget.sandbox.process import Limits

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "kernels"
SILU = load_task(EXAMPLES / "tasks" / "silu.py")
GOOD = (EXAMPLES / "cpp" / "silu.py").read_text()
FIXED_SIZE = GOOD.replace("y = torch.empty_like(x)", "y = torch.empty(64, 4096)").replace(
    "kernels.silu(x, y, x.numel())", "kernels.silu(x, y, 64 * 4096)"
)


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> EvalOptions:
    cache = tmp_path_factory.mktemp("kernel-cache")
    return EvalOptions(seeds=2, compile_baseline=False, profile=True, cache=cache,
                       timing=Timing(repeats=10, warmup=1),
                       limits=Limits(seconds=90, memory_mb=4096))  # fmt: skip


def block(tag: str, text: str) -> str:
    return f"Here:\n```{tag}\n{text.rstrip()}\n```\n"


class Unseeded(KernelProblem):
    """The loop from the model alone (the seed has its own tests)."""

    def seed(self) -> str | None:
        return None


def test_task_constants_make_bounded_variants() -> None:
    assert shape_constants(SILU) == {"batch_size": 64, "dim": 4096}
    assert check_variant(SILU, {"constants": {"batch_size": 3}}) == Variant(
        constants={"batch_size": 3}
    )
    assert check_variant(SILU, {"constants": {"batch_size": 129}}) is None  # over twice
    assert check_variant(SILU, {"constants": {"depth": 3}}) is None  # not a constant
    assert check_variant(SILU, {"constants": {"dim": 2.5}}) is None
    assert check_variant(SILU, {"scale": float("inf")}) is None
    assert check_variant(SILU, {"scale": 1.0}) is None  # the task itself
    assert check_variant(SILU, {"scale": 300}) == Variant(scale=300.0)


def test_a_variant_changes_the_task_source_only() -> None:
    import torch

    variant = apply_variant(SILU, Variant(constants={"dim": 10}, scale=1000.0))
    space: dict[str, Any] = {}
    exec(compile(variant.source, "variant.py", "exec"), space)  # our own example task
    torch.manual_seed(0)
    (x,) = space["get_inputs"]()
    assert tuple(x.shape) == (64, 10) and float(x.abs().max()) > 100
    assert "dim = 4096" in SILU.source and variant.name == "silu[dim=10, inputs x1000]"


def test_the_model_judges_answer_becomes_the_coders_feedback() -> None:
    problem = KernelProblem(SILU, "cpp")
    decision = Decision(action="optimize", reason="verified, but slow", feedback="rules")
    answer = block("json", json.dumps({"bottleneck": "one thread", "method": "OpenMP",
                                       "plan": "parallel for over rows"}))  # fmt: skip
    judged = problem.read_judgement(answer, decision)
    assert judged.judgement == {"bottleneck": "one thread", "method": "OpenMP",
                                "plan": "parallel for over rows"}  # fmt: skip
    assert "Bottleneck: one thread" in judged.feedback and judged.feedback.endswith("rules")
    assert problem.read_judgement("no json here", decision) == decision
    missing = block("json", json.dumps({"bottleneck": "x"}))
    assert problem.read_judgement(missing, decision) == decision


def test_profile_rows_and_ncu_csv_read_as_short_lines() -> None:
    rows = [ProfileRow(name="kernel:silu.silu", calls=1, self_ms=0.9),
            ProfileRow(name="aten::empty_like", calls=1, self_ms=0.1)]  # fmt: skip
    lines = profile_lines(rows)
    assert "90% inside the candidate's kernels" in lines[0]
    assert "kernel:silu.silu: 0.900 ms self (90%)" in lines[1]
    csv_text = (
        "==PROF== Connected to process 12\n"
        '"ID","Kernel Name","Metric Name","Metric Unit","Metric Value"\n'
        '"0","silu_kernel","launch__registers_per_thread","register/thread","18"\n'
        '"0","silu_kernel","dram__throughput.avg.pct_of_peak_sustained_elapsed","%","71.5"\n'
    )
    (kernel,) = parse_ncu_csv(csv_text)
    assert kernel.kernel == "silu_kernel"
    assert kernel.metrics == {"launch__registers_per_thread": "18 register/thread",
                              "dram__throughput.avg.pct_of_peak_sustained_elapsed": "71.5 %"}  # fmt: skip


def test_model_candidates_variants_and_the_judges_diagnosis(
    serve: Any, options: EvalOptions, tmp_path: Path
) -> None:
    diagnosis = {"diagnosis": "the output size is fixed at 64x4096",
                 "fix": "allocate with empty_like and pass numel()"}  # fmt: skip
    server, model = serve([
        {"match": "judge of a kernel optimization", "content": block("json", json.dumps(diagnosis))},
        {"match": "task variants", "content": block("json", json.dumps(
            [{"constants": {"batch_size": 3, "dim": 1000}}, {"constants": {"nope": 1}}]))},
        {"match": "The judge's reading", "content": block("python", GOOD)},
        {"match": "Write `ModelNew`", "content": block("python", FIXED_SIZE)},
    ])  # fmt: skip
    problem = Unseeded(SILU, "cpp", options, target_speedup=0.0)
    trace = Trace(tmp_path / "trace.jsonl")
    outcome = solve(problem, model, Budget(rounds=3, candidates=1), trace=trace)
    assert problem.variants == [Variant(constants={"batch_size": 3, "dim": 1000})]
    assert outcome.status == "verified", outcome
    assert outcome.best is not None and outcome.best.round == 2
    assert outcome.best.evaluation.figures["speedup_vs_eager"] is not None
    assert "profile (per call)" in outcome.best.evaluation.detail
    steps = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    first = next(s for s in steps if s["step"] == "coder" and s["round"] == 1)
    assert (
        first["verdict"] == "mismatch"
        and "on the variant (batch_size=3, dim=1000)" in first["detail"]
    )
    second = next(s for s in steps if s["step"] == "coder" and s["round"] == 2)
    assert "the output size is fixed" in second["prompt"][-1]["content"]
    assert outcome.model_calls == 4 and server.answered == 4


def optimize(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "retarget.cli", "kernel", "optimize", *args],
                          capture_output=True, text=True, env=env, timeout=900, check=False)  # fmt: skip


@pytest.fixture
def offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RETARGET_", "OPENAI_"))}
    return env | {"RETARGET_KERNEL_COMPILE_BASELINE": "0", "RETARGET_KERNEL_SEEDS": "2",
                  "RETARGET_KERNEL_REPEATS": "10", "RETARGET_KERNEL_CACHE": str(tmp_path / "c")}  # fmt: skip


def test_optimize_runs_offline_from_the_seed_and_resumes(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    out = tmp_path / "out"
    task = str(EXAMPLES / "tasks" / "silu.py")
    first = optimize(task, "--backend", "cpp", "--out", str(out), env=offline_env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "seed: verified" in first.stderr
    report = json.loads((out / "report.json").read_text())
    assert (
        report["outcome"]["status"] == "verified" and report["outcome"]["best"]["origin"] == "seed"
    )
    assert "class ModelNew" in (out / "best.py").read_text()
    steps = (out / ".retarget" / "trace.jsonl").read_text().count('"step": "seed"')
    again = optimize(task, "--backend", "cpp", "--out", str(out), env=offline_env)
    assert again.returncode == 0, again.stderr
    assert (out / ".retarget" / "trace.jsonl").read_text().count('"step": "seed"') == steps


def test_optimize_rejects_bad_input_with_exit_2(
    tmp_path: Path, offline_env: dict[str, str]
) -> None:
    bad = tmp_path / "task.py"
    bad.write_text("import torch\n\nclass Model:\n    pass\n")
    done = optimize(str(bad), "--backend", "cpp", "--out", str(tmp_path / "o"), env=offline_env)
    assert done.returncode == 2 and "get_inputs" in done.stderr
    assert not (tmp_path / "o").exists()
    missing = optimize(str(tmp_path / "none.py"), "--backend", "cpp", env=offline_env)
    assert missing.returncode == 2
    wrong = optimize(str(EXAMPLES / "tasks" / "silu.py"), "--backend", "fortran", env=offline_env)
    assert wrong.returncode == 2


def test_optimize_with_a_model_sends_the_seed_back_with_the_judges_plan(
    serve: Any, tmp_path: Path, offline_env: dict[str, str]
) -> None:
    plan = {"bottleneck": "scalar code", "method": "vectorize", "plan": "omp simd over the row"}
    server, _ = serve([
        {"match": "judge of a kernel optimization", "content": block("json", json.dumps(plan))},
        {"match": "task variants", "content": block("json", "[]")},
        {"match": "Bottleneck: scalar code", "content": block("python", GOOD)},
    ])  # fmt: skip
    env = offline_env | {"OPENAI_BASE_URL": server.base_url, "RETARGET_MAX_ATTEMPTS": "2",
                         "RETARGET_KERNEL_TARGET_SPEEDUP": "1000"}  # fmt: skip
    out = tmp_path / "out"
    done = optimize(str(EXAMPLES / "tasks" / "silu.py"), "--backend", "cpp", "--model", "replay",
                    "--rounds", "2", "--out", str(out), env=env)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((out / "report.json").read_text())
    assert [c["origin"] for c in report["candidates"]] == ["seed", "model"]
    assert all(c["evaluation"]["verdict"] == "verified" for c in report["candidates"])
    assert report["outcome"]["model_calls"] == 3 and server.answered == 3
    assert len(list((out / "candidates").glob("*.py"))) == 2
    assert (out / ".retarget" / "responses.sqlite").is_file()


def test_a_variant_the_reference_cannot_run_is_dropped(options: EvalOptions) -> None:
    source = SILU.source.replace("dim = 4096", "dim = 8").replace(
        "torch.randn(batch_size, dim)", "torch.randn(batch_size, dim).view(batch_size, 2, 4)"
    )
    task = KernelTask(name="silu_3d", path=SILU.path, source=source)
    problem = KernelProblem(task, "cpp", options, target_speedup=0.0)
    problem.variants = [Variant(constants={"dim": 3})]  # view(batch, 2, 4) fails on 3
    assert problem.evaluate(GOOD).verdict == "verified"
    assert problem.variants == []
