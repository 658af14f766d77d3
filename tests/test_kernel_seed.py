"""Seed candidates made without a model: torch.compile's C++ for the reference, wrapped as
``ModelNew``. Each example task gets a seed or a reason; every seed passes the static pass and
the evaluator; the translation and the C++ prelude are also checked on their own (no
torch.compile), and the seed cache is checked to answer a second time without a run."""

from __future__ import annotations

import importlib.util
import math
import shutil
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("torch", reason="the kernel side needs torch: scripts/setup.sh installs it")

import torch

from retarget.kernelgen.evaluate import EvalOptions, evaluate
from retarget.kernelgen.seed import (
    PRELUDE,
    ForwardInput,
    GraphArg,
    NoSeed,
    SeedPlan,
    SeedResult,
    TensorInfo,
    candidate_source,
    compile_seed,
    model_init,
    seed_key,
)
from retarget.kernelgen.static import check_source
from retarget.kernelgen.task import KernelTask, load_task

ROOT = Path(__file__).resolve().parent.parent
TASKS = ROOT / "examples" / "kernels" / "tasks"
MADE = ["silu", "row_sum", "softmax", "layernorm"]
REFUSED = {"matmul": "aten mm", "linear_relu": "aten addmm", "conv2d": "aten convolution"}

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


def task_named(name: str) -> KernelTask:
    return load_task(TASKS / f"{name}.py")


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> EvalOptions:
    cache = tmp_path_factory.mktemp("seed-cache") / "kernels"
    return EvalOptions(compile_baseline=False, seeds=2, profile=False, cache=cache)


@pytest.fixture(scope="module")
def seeds(options: EvalOptions) -> dict[str, SeedResult]:
    """One torch.compile per example task (about 20-40 s each here), shared by the tests."""
    return {name: compile_seed(task_named(name), "cpp", options) for name in [*MADE, *REFUSED]}


@needs_bwrap
@pytest.mark.parametrize("name", MADE)
def test_a_seed_is_made_and_passes_the_static_pass(name: str, seeds: dict[str, SeedResult]) -> None:
    seed = seeds[name]
    assert seed.source is not None, seed.reason
    assert "torch.compile" in seed.reason and not seed.cached
    report = check_source(seed.source, "cpp")
    assert report.ok, report.reason
    assert report.kernels and all(k.startswith("kernels.cpp_fused_") for k in report.kernels)
    assert "#include <torch/csrc/inductor/cpp_prefix.h>" not in seed.source
    assert "at::" not in seed.source


@needs_bwrap
@pytest.mark.parametrize("name", MADE)
def test_every_seed_is_correct_in_the_evaluator(
    name: str, seeds: dict[str, SeedResult], options: EvalOptions
) -> None:
    source = seeds[name].source
    assert source is not None, seeds[name].reason
    result = evaluate(task_named(name), source, "cpp", options)
    assert (result.verdict, result.correct) == ("correct", True), result.reason
    assert sum(result.launches.values()) >= 4


@needs_bwrap
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_graph_with_an_aten_kernel_gets_no_seed_and_says_why(
    name: str, seeds: dict[str, SeedResult]
) -> None:
    seed = seeds[name]
    assert seed.source is None
    assert REFUSED[name] in seed.reason and "extern kernel" in seed.reason, seed.reason


@needs_bwrap
def test_a_second_seed_of_the_same_task_comes_from_the_cache(
    seeds: dict[str, SeedResult], options: EvalOptions
) -> None:
    again = compile_seed(task_named("silu"), "cpp", options)
    assert again.cached and again.source == seeds["silu"].source
    refused = compile_seed(task_named("matmul"), "cpp", options)
    assert refused.cached and refused.reason == seeds["matmul"].reason


def test_the_cache_key_follows_the_task_source() -> None:
    task = task_named("silu")
    other = task.model_copy(update={"source": task.source.replace("4096", "2048")})
    assert seed_key(task, "cpp") == seed_key(task_named("silu"), "cpp")
    assert seed_key(task, "cpp") != seed_key(other, "cpp")
    assert seed_key(task, "cpp") != seed_key(task, "triton")


@needs_bwrap
def test_a_harness_that_does_not_finish_is_reported_and_not_cached(tmp_path: Path) -> None:
    source = task_named("silu").source.replace(
        "        super().__init__()", "        super().__init__()\n        import os\n"
        "        os._exit(3)")  # fmt: skip
    task = KernelTask(name="exits", path=tmp_path / "exits.py", source=source)
    options = EvalOptions(cache=tmp_path / "kernels")
    made = compile_seed(task, "cpp", options)
    assert made.source is None and "did not finish (exit 3)" in made.reason, made.reason
    kept = tmp_path / "seeds"
    assert not kept.exists() or not any(kept.iterdir())


def test_triton_and_cuda_get_no_seed_with_a_reason() -> None:
    for backend in ("triton", "cuda"):
        made = compile_seed(task_named("silu"), backend)  # type: ignore[arg-type]
        assert made.source is None and f"NO {backend.upper()} SEED" in made.reason.upper()


# The translation on its own: inductor-shaped output code written here, no torch.compile.

KERNEL = r'''
cpp_fused_add_0 = async_compile.cpp_pybinding(['const float*', 'const float*', 'float*'], r"""
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  kernel(const float* in_ptr0,
                       const float* in_ptr1,
                       float* out_ptr0)
{
    std::atomic<int> inductor_cpu_integer_div_error{0};
    inductor_cpu_integer_div_error_flag = &inductor_cpu_integer_div_error;
    {
        float tmp_acc0 = 0;
        for(int64_t x0=static_cast<int64_t>(0L); x0<static_cast<int64_t>(8L); x0+=static_cast<int64_t>(1L))
        {
            auto tmp0 = in_ptr0[static_cast<int64_t>(x0)];
            tmp_acc0 = tmp_acc0 + tmp0;
        }
        for(int64_t x0=static_cast<int64_t>(0L); x0<static_cast<int64_t>(8L); x0+=static_cast<int64_t>(1L))
        {
            out_ptr0[static_cast<int64_t>(x0)] = max_propagate_nan(in_ptr0[x0], in_ptr1[x0 % 4]) + tmp_acc0;
        }
    }
    inductor_cpu_integer_div_error_flag = nullptr;
    inductor_cpu_throw_if_integer_div_error(inductor_cpu_integer_div_error);
}
""")
'''

CALL = """
class Runner:
    def call(self, args):
        arg0_1, arg1_1 = args
        args.clear()
        assert_size_stride(arg0_1, (4, ), (1, ), 'input')
        assert_size_stride(arg1_1, (2, 4), (4, 1), 'input')
        buf0 = empty_strided_cpu((2, 4), (4, 1), torch.float32)
        {statement}
        del arg1_1
        return (reinterpret_tensor(buf0, (8, ), (1, ), 0), )
"""

TASK = """
import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self, width):
        super(Model, self).__init__()
        self.shift = nn.Parameter(torch.randn(width))

    def forward(self, x):
        return torch.maximum(x, self.shift).flatten() + x.sum()


def get_inputs():
    return [torch.randn(2, 4)]


def get_init_inputs():
    return [4]
"""


def plan() -> SeedPlan:
    shift = TensorInfo(shape=[4], stride=[1], dtype="float32")
    x = TensorInfo(shape=[2, 4], stride=[4, 1], dtype="float32")
    return SeedPlan(name="toy", args=[GraphArg(kind="state", name="shift", tensor=shift),
                                      GraphArg(kind="input", index=0, tensor=x)],
                    inputs=[ForwardInput(tensor=x)], output="tensor")  # fmt: skip


def load(path: Path, source: str) -> ModuleType:
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_inductor_code_becomes_a_candidate_that_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = KERNEL + CALL.format(statement="cpp_fused_add_0(arg1_1, arg0_1, buf0)")
    made = candidate_source(code, plan(), TASK)
    assert made.kernels == ["cpp_fused_add_0"]
    assert made.widened == 0  # the sum is used in an expression, so it stays float
    source = made.source
    report = check_source(source, "cpp")
    assert report.ok, report.reason
    assert 'extern "C" int cpp_fused_add_0(' in source and "return inductor_cpu_integer" in source
    assert "buf0.view((8,))" in source and "super().__init__()" in source
    assert "IndexValue" not in source  # only the prelude parts the kernel uses
    monkeypatch.setenv("RETARGET_KERNEL_CACHE", str(tmp_path / "cache"))
    module = load(tmp_path / "toy_seed.py", source)
    torch.manual_seed(3)
    model = module.ModelNew(4)
    x = torch.randn(2, 4)
    want = torch.maximum(x, model.shift.detach()).flatten() + x.sum()
    assert torch.allclose(model(x), want, atol=1e-5)
    with pytest.raises(ValueError, match=r"shape \(2, 4\)"):
        model(torch.randn(3, 4))


def test_an_extern_kernel_or_an_unknown_statement_is_refused_with_the_reason() -> None:
    code = KERNEL + CALL.format(statement="extern_kernels.mm(arg1_1, arg1_1, out=buf0)")
    with pytest.raises(NoSeed, match=r"aten mm \(extern kernel\).*constant second operand"):
        candidate_source(code, plan(), TASK)
    code = KERNEL + CALL.format(statement="buf0.zero_()")
    with pytest.raises(NoSeed, match="does not translate"):
        candidate_source(code, plan(), TASK)
    code = KERNEL.replace("std::atomic<int>", "at::vec::Vectorized<float> v; std::atomic<int>")
    code += CALL.format(statement="cpp_fused_add_0(arg1_1, arg0_1, buf0)")
    with pytest.raises(NoSeed, match="uses ATen/c10"):
        candidate_source(code, plan(), TASK)


SUMS = """
    {
        float tmp_acc0 = 0;
        for(int64_t x1=0; x1<4096; x1++)
        {
            auto tmp0 = in_ptr0[x1 + 4096L*x0];
            tmp_acc0 = tmp_acc0 + tmp0;
        }
        out_ptr0[static_cast<int64_t>(x0)] = tmp_acc0;
    }
    {
        float tmp_acc0 = -std::numeric_limits<float>::infinity();
        float tmp_acc1 = 0;
        for(int64_t x1=0; x1<4096; x1++)
        {
            tmp_acc0 = max_propagate_nan(tmp_acc0, in_ptr0[x1]);
            tmp_acc1 = tmp_acc1 + in_ptr0[x1];
        }
        out_ptr1[x0] = tmp_acc1 * tmp_acc0;
    }
"""


def test_plain_float_sums_accumulate_in_double_and_nothing_else_changes() -> None:
    from retarget.kernelgen.seed import _widen_sums

    text, count = _widen_sums(SUMS)
    assert count == 1 and text.count("double tmp_acc0 = 0;") == 1
    assert "float tmp_acc1 = 0;" in text  # used in an expression
    assert text.replace("double tmp_acc0 = 0;", "float tmp_acc0 = 0;") == SUMS


def test_model_init_is_copied_only_when_it_needs_nothing_else_from_the_task() -> None:
    imports, init = model_init(TASK)
    assert imports == ["import torch", "import torch.nn as nn"]
    assert init is not None and "super().__init__()" in init
    hidden = TASK.replace("torch.randn(width)", "torch.randn(WIDTH)")
    with pytest.raises(NoSeed, match=r"names of the task module \(WIDTH\)"):
        model_init(hidden)


PRELUDE_TEST = r"""
extern "C" double cascade(const float* x, int64_t n) {
    CascadeSumHelper<float, 4096> helper(n);
    float acc = 0;
    for (int64_t i = 0; i < n; ++i) acc = cascade_sum_combine(x[i], &helper);
    return cascade_sum_final(&helper);
}

extern "C" void variance(const float* x, int64_t n, float* out) {
    Welford<float> acc = Welford<float>();
    WelfordHelper<float, 4096> helper(n);
    for (int64_t i = 0; i < n; ++i) acc = welford_combine(acc, x[i], &helper);
    acc = welford_combine(acc, &helper);
    Welford<float> halves = welford_combine(Welford<float>{acc.mean, acc.m2, acc.weight},
                                            Welford<float>{acc.mean, acc.m2, acc.weight});
    out[0] = acc.mean;
    out[1] = acc.m2 / acc.weight;
    out[2] = halves.m2 / halves.weight;
}

extern "C" int64_t arg_max(const float* x, int64_t n) {
    IndexValue<float> acc{0, -std::numeric_limits<float>::infinity()};
    for (int64_t i = 0; i < n; ++i) argmax_combine(acc, x[i], i);
    return acc.index;
}

extern "C" float top(const float* x, int64_t n) {
    float acc = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) acc = max_propagate_nan(acc, x[i]);
    return acc;
}

extern "C" int64_t floor_div(int64_t a, int64_t b) {
    return floor_divide_integral(a, b);
}

extern "C" int64_t c_remainder(int64_t a, int64_t b) {
    return mod(a, b);
}
"""


def test_the_prelude_helpers_compute_what_inductor_expects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retarget.kernelgen.native import load_cpp

    monkeypatch.setenv("RETARGET_KERNEL_CACHE", str(tmp_path))
    lib = load_cpp("prelude_test", [PRELUDE, PRELUDE_TEST],
                   functions=["cascade", "variance", "arg_max", "top", "floor_div", "c_remainder"])  # fmt: skip
    torch.manual_seed(0)
    x = torch.randn(100_000) + 0.5
    exact = math.fsum(x.double().tolist())
    assert abs(lib.cascade(x, x.numel()) - exact) < 1e-6 * exact
    out = torch.empty(3)
    lib.variance(x, x.numel(), out)
    assert torch.allclose(out[:2], torch.stack([x.mean(), x.var(unbiased=False)]), rtol=1e-4)
    assert torch.allclose(out[2], out[1], rtol=1e-5)
    nan = float("nan")
    for values in ([1.0, 3.0, 3.0, 2.0], [1.0, nan, 5.0, nan], [-1.0, -1.0]):
        t = torch.tensor(values)
        assert lib.arg_max(t, t.numel()) == int(t.argmax())
        top = lib.top(t, t.numel())
        assert (math.isnan(top) and t.isnan().any()) or top == float(t.max())
    for a, b in ((-7, 2), (7, -2), (-8, 2), (7, 2), (0, 3)):
        assert lib.floor_div(a, b) == a // b
        assert lib.c_remainder(a, b) == int(math.fmod(a, b))
    assert lib.floor_div(5, 0) == 0  # inductor's flag, not a crash
