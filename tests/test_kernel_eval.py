"""The kernel evaluator, for real: every candidate runs in the bubblewrap sandbox; correct
candidates for the example tasks pass, and one candidate per known evaluation hack is rejected
with the right reason."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the kernel side needs torch: scripts/setup.sh installs it")

from retarget.kernelgen.evaluate import (
    EvalOptions,
    KernelEvaluation,
    _build,
    _result,
    _run_candidate,
    evaluate,
)
from retarget.kernelgen.native import spec_from_call
from retarget.kernelgen.static import check_source
from retarget.kernelgen.task import load_task
from retarget.sandbox.process import Limits

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "kernels"
HACKS = Path(__file__).parent / "data" / "kernels"
SILU = load_task(EXAMPLES / "tasks" / "silu.py")

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> EvalOptions:
    cache = tmp_path_factory.mktemp("kernel-cache")
    return EvalOptions(seeds=3, compile_baseline=False, profile=False, cache=cache,
                       limits=Limits(seconds=60, memory_mb=4096))  # fmt: skip


def run(task: str, candidate: Path, backend: str, options: EvalOptions) -> KernelEvaluation:
    source = candidate.read_text()
    return evaluate(load_task(EXAMPLES / "tasks" / f"{task}.py"), source, backend,  # type: ignore[arg-type]
                    options)  # fmt: skip


CPP = sorted(p.stem for p in (EXAMPLES / "cpp").glob("*.py") if p.stem != "silu_load_inline")


@needs_bwrap
@pytest.mark.parametrize("task", CPP)
def test_cpp_candidates_for_the_example_tasks_are_correct(task: str, options: EvalOptions) -> None:
    result = run(task, EXAMPLES / "cpp" / f"{task}.py", "cpp", options)
    assert (result.verdict, result.correct) == ("correct", True), result.reason
    assert result.trials == 6 and result.runtime_ms and result.speedup_vs_eager
    assert sum(result.launches.values()) >= 6


@needs_bwrap
@pytest.mark.parametrize("task", ["silu", "softmax", "matmul"])
def test_triton_candidates_pass_in_the_interpreter_and_compile_for_sm90(
    task: str, options: EvalOptions
) -> None:
    result = run(task, EXAMPLES / "triton" / f"{task}.py", "triton", options)
    assert result.verdict == "correct", result.reason
    assert "interpreter" in result.reason and result.speedup_vs_eager is None
    assert "ok: sm_90" in result.compile_report


@needs_bwrap
def test_a_kernelbench_load_inline_candidate_builds_with_torch_headers(
    options: EvalOptions,
) -> None:
    result = run("silu", EXAMPLES / "cpp" / "silu_load_inline.py", "cpp", options)
    assert result.verdict == "correct", result.reason


@needs_bwrap
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc for the compile check")
def test_cuda_without_a_gpu_is_compile_checked_and_unverified(options: EvalOptions) -> None:
    result = run("silu", EXAMPLES / "cuda" / "silu.py", "cuda", options)
    assert (result.verdict, result.exit_code) == ("unverified", 3), result.reason
    assert "registers" in result.compile_report


HACK_REASONS = {
    "torch_instead": "torch compute in forward: torch.sigmoid()",
    "python_operators": "torch compute at run time: aten.",
    "try_fallback": "try/except is not allowed",
    "inherits_model": "may only inherit nn.Module",
    "cache_by_shape": "wrong output in trial 2",
    "cache_by_pointer": ".data_ptr",
    "constant": "wrong output in trial 1",
    "mutates_inputs": "changed its inputs",
    "reads_gc": "import of gc",
    "reads_inspect": "import of inspect",
    "reads_frames": ".f_locals",
    "patches_allclose": "top-level assignments must bind plain names",
    "patches_timer": "import of time",
    "side_stream": ".stream",
    "side_thread": "import of threading",
    "low_precision": "beyond atol=rtol=0.0001",
    "sleeps_forever": "time limit",
    "allocates_unbounded": "memory limit",
    "exits_early": "calls exit()",
    "writes_files": "use of open",
    "opens_socket": "sys/socket.h",
    "numpy_behind_dummy": "import of numpy",
    "aten_in_cpp": "C++ source calls torch::sigmoid",
}


def test_every_hack_has_a_candidate() -> None:
    assert {p.stem for p in HACKS.glob("*.py")} == set(HACK_REASONS)


@needs_bwrap
@pytest.mark.parametrize("hack", sorted(HACK_REASONS))
def test_each_known_hack_is_rejected_with_its_reason(hack: str, options: EvalOptions) -> None:
    quick = options.model_copy(update={"limits": Limits(seconds=20, memory_mb=4096), "seeds": 2})
    result = evaluate(SILU, (HACKS / f"{hack}.py").read_text(), "cpp", quick)
    assert result.verdict == "rejected" and not result.correct
    assert HACK_REASONS[hack] in result.reason, result.reason


@needs_bwrap
def test_an_early_exit_past_the_static_pass_leaves_no_result(options: EvalOptions) -> None:
    """The second line of defence: a process that ends before the harness wrote its result
    (here a kernel calling exit(0) after printing "correct", let past the static pass) is a
    rejection, whatever it printed and whatever its exit status."""
    source = (HACKS / "exits_early.py").read_text()
    kernel = source.split('r"""')[1].split('"""')[0]
    spec = spec_from_call("load_cpp", ["finish", kernel], {"functions": ["finish"]})
    assert options.cache is not None
    assert _build(spec, options.cache, options).ok
    scratch = options.cache.parent / "early-exit"
    scratch.mkdir(exist_ok=True)
    plan = [(1, 1), (1, 2)]
    result = _run_candidate(SILU, source, "cpp", plan, options, scratch, options.cache, False)
    assert result["stage"] == "run"
    assert "ended before the evaluation finished (exit 0)" in result["reason"]


def test_static_pass_accepts_the_examples_and_finds_their_kernels() -> None:
    report = check_source((EXAMPLES / "triton" / "matmul.py").read_text(), "triton")
    assert report.ok and report.kernels == ["matmul_kernel"]
    report = check_source((EXAMPLES / "cpp" / "conv2d.py").read_text(), "cpp")
    assert report.ok and report.kernels == ["kernels.conv2d"]
    assert not check_source((EXAMPLES / "cpp" / "conv2d.py").read_text(), "triton").ok


def test_the_static_pass_reads_sources_bound_to_names() -> None:
    source = (HACKS / "aten_in_cpp.py").read_text().replace("torch::sigmoid(x)", "x")
    report = check_source(source, "cpp")
    assert report.ok and report.extensions[0].name == "silu_aten"
    indirect = source.replace("cpp_sources=SOURCE", "cpp_sources=[SOURCE.lower()]")
    assert "literals" in check_source(indirect, "cpp").reason


def test_a_result_without_the_nonce_is_not_trusted(tmp_path: Path) -> None:
    from retarget.sandbox.process import ProcessResult

    (tmp_path / "result.json").write_text(json.dumps({"nonce": "forged", "trials": []}))
    done = ProcessResult(returncode=0, stdout="correct", stderr="")
    assert "ended before the evaluation finished" in _result(done, tmp_path, "real")["reason"]


@needs_bwrap
def test_cli_eval_exit_codes_and_json(tmp_path: Path) -> None:
    env = {**os.environ, "RETARGET_KERNEL_COMPILE_BASELINE": "0", "RETARGET_KERNEL_SEEDS": "2",
           "RETARGET_KERNEL_CACHE": str(tmp_path)}  # fmt: skip

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "retarget.cli", "kernel", "eval", *args],
                              capture_output=True, text=True, env=env, check=False)  # fmt: skip

    task = str(EXAMPLES / "tasks" / "silu.py")
    good = cli(task, str(EXAMPLES / "cpp" / "silu.py"), "--backend", "cpp", "--json")
    assert good.returncode == 0, good.stderr
    data = json.loads(good.stdout)
    for key in ("verdict", "reason", "correct", "speedup_vs_eager", "speedup_vs_compile",
                "runtime_ms"):  # fmt: skip
        assert key in data
    assert data["verdict"] == "correct" and data["speedup_vs_eager"] > 0
    bad = cli(task, str(HACKS / "torch_instead.py"), "--backend", "cpp")
    assert bad.returncode == 1 and "torch.sigmoid" in bad.stdout
    missing = cli(str(tmp_path / "none.py"), str(EXAMPLES / "cpp" / "silu.py"), "--backend", "cpp")
    assert missing.returncode == 2 and "none.py" in missing.stderr
    not_a_task = cli(str(EXAMPLES / "cpp" / "silu.py"), str(EXAMPLES / "cpp" / "silu.py"),
                     "--backend", "cpp")  # fmt: skip
    assert not_a_task.returncode == 2 and "not a KernelBench task" in not_a_task.stderr


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    yield
