"""A seed candidate made without a model: inductor's C++ for the reference, as ``ModelNew``.

``compile_seed(task, "cpp")`` runs ``torch.compile`` (inductor, vectorization off) on the task's
``Model`` inside the sandbox (the task file is user code), through
:mod:`retarget.kernelgen.seed_harness`, and turns the generated code into a candidate:

- each ``cpp_fused_*`` kernel keeps its C++ body; the ``cpp_prefix.h`` include (ATen headers)
  is replaced by the parts of :data:`PRELUDE` it uses (scalar helpers written here), and the
  sources are built with :func:`retarget.kernelgen.native.load_cpp` (plain ``extern "C"``, no
  torch headers). Three edits, no more: the entry point is renamed and returns inductor's
  integer-division flag instead of throwing (an exception cannot cross ctypes); plain float
  sums accumulate in double (see :func:`_widen_sums`); ``c10::div_floor_integer`` in index
  arithmetic becomes the prelude's own ``seed_floor_div``;
- ``forward`` does what inductor's ``call`` does: it checks that the inputs and parameters have
  the shapes, strides and dtypes the code was generated for (static shapes are baked into the
  loops), allocates the buffers with ``torch.empty_strided`` and calls the kernels in order;
- ``__init__`` is the task's ``Model.__init__``, so the weights are made the same way.

The harness then runs the candidate against the eager model in the same sandbox (other seeds),
so a wrong mapping of ``call``'s arguments to parameters and inputs is caught before the seed is
returned; the trusted side re-runs the static pass. Where the graph needs an aten kernel
(``extern_kernels.mm``, ``addmm``, ``convolution``, fallbacks) or helpers the prelude lacks, no
seed is made and the reason says why. Results are cached by the task's source (and everything
else that goes into a seed) next to the evaluator's build cache.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import json
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from retarget.kernelgen.evaluate import EvalOptions, jailed_python
from retarget.kernelgen.native import default_cache
from retarget.kernelgen.static import ALLOWED_IMPORTS, BackendName, check_source
from retarget.kernelgen.task import KernelTask

SEED_VERSION = "1"
CFLAGS = ["-O3", "-fopenmp"]
LDFLAGS = ["-fopenmp"]

_BASE = r"""
// The helpers inductor's scalar C++ kernels call (its cpp_prefix.h, without ATen).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>
#include <omp.h>

#define C10_LIKELY(expr) (__builtin_expect(static_cast<bool>(expr), 1))
#define C10_UNLIKELY(expr) (__builtin_expect(static_cast<bool>(expr), 0))
#define C10_UNLIKELY_OR_CONST(expr) C10_UNLIKELY(expr)

// Integer division by zero is noted here; the kernel returns it (non-zero: an error).
inline std::atomic<int>* inductor_cpu_integer_div_error_flag = nullptr;

inline void inductor_cpu_note_integer_div_by_zero() {
    if (inductor_cpu_integer_div_error_flag != nullptr) {
        inductor_cpu_integer_div_error_flag->store(1, std::memory_order_relaxed);
    }
}

template <typename T>
inline bool seed_is_nan(T v) {
    if constexpr (std::is_floating_point_v<T>) {
        return std::isnan(v);
    } else {
        return false;
    }
}
"""

_MIN_MAX = r"""
// A NaN already in the accumulator stays; a NaN arriving fails the comparison and wins.
template <typename T>
inline T max_propagate_nan(T a, T b) {
    return seed_is_nan(a) ? a : (a > b ? a : b);
}

template <typename T>
inline T min_propagate_nan(T a, T b) {
    return seed_is_nan(a) ? a : (a < b ? a : b);
}
"""

_FLOOR_DIV = r"""
// Integer division rounding toward negative infinity (c10::div_floor_integer's result).
template <typename C>
inline C seed_floor_div(C n, C d) {
    if (std::is_signed_v<C> && d == C(-1)) {
        return C(0) - n;
    }
    C q = n / d;
    if ((n % d != 0) && ((n < 0) != (d < 0))) {
        q -= 1;
    }
    return q;
}

template <typename T, typename U>
inline std::common_type_t<T, U> floor_divide_integral(T a, U b) {
    using C = std::common_type_t<T, U>;
    static_assert(std::is_integral_v<C>, "floor_divide_integral: integral operands only");
    if (static_cast<C>(b) == 0) {
        inductor_cpu_note_integer_div_by_zero();
        return C(0);
    }
    return seed_floor_div(static_cast<C>(a), static_cast<C>(b));
}
"""

_MOD = r"""
// Integral remainder with C's sign (inductor corrects the sign around it); fmod for floats.
template <typename T, typename U>
inline std::common_type_t<T, U> mod(T a, U b) {
    using C = std::common_type_t<T, U>;
    if constexpr (std::is_floating_point_v<C>) {
        return std::fmod(static_cast<C>(a), static_cast<C>(b));
    } else {
        const C n = static_cast<C>(a);
        const C d = static_cast<C>(b);
        if (d == 0) {
            inductor_cpu_note_integer_div_by_zero();
            return C(0);
        }
        if (std::is_signed_v<C> && d == C(-1)) {
            return C(0);
        }
        return n % d;
    }
}
"""

_ARG_MIN_MAX = r"""
template <typename T>
struct IndexValue {
    int64_t index{};
    T value;
    IndexValue(int64_t i, T v) : index(i), value(v) {}
    IndexValue() = default;
};

// Whether the accumulator (a, ia) stays: ties go to the lower index, the first NaN wins.
template <typename T>
inline bool seed_keeps(T a, T b, int64_t ia, int64_t ib, bool largest) {
    if (seed_is_nan(a)) {
        return seed_is_nan(b) ? ia < ib : true;
    }
    if (seed_is_nan(b)) {
        return false;
    }
    if (a == b) {
        return ia < ib;
    }
    return largest ? a > b : a < b;
}

template <typename T>
inline IndexValue<T>& argmax_combine(IndexValue<T>& acc, T value, int64_t index) {
    if (!seed_keeps(acc.value, value, acc.index, index, true)) {
        acc.value = value;
        acc.index = index;
    }
    return acc;
}

template <typename T>
inline IndexValue<T>& argmin_combine(IndexValue<T>& acc, T value, int64_t index) {
    if (!seed_keeps(acc.value, value, acc.index, index, false)) {
        acc.value = value;
        acc.index = index;
    }
    return acc;
}

template <typename T>
inline IndexValue<T>& argmax_combine(IndexValue<T>& acc, const IndexValue<T>& other) {
    return argmax_combine(acc, other.value, other.index);
}

template <typename T>
inline IndexValue<T>& argmin_combine(IndexValue<T>& acc, const IndexValue<T>& other) {
    return argmin_combine(acc, other.value, other.index);
}
"""

_CHUNKS = r"""
// Finished chunks of a long reduction merge like a binary counter: levels[j] holds the merge
// of 2^j chunks while bit j of chunks is set, so rounding grows with log(chunks). Sums merge
// here; Welford partials by the overload found for them (argument-dependent lookup).
template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
inline T seed_merge(T a, T b) {
    return a + b;
}

template <typename T>
inline void seed_carry(T* levels, uint64_t& chunks, T value) {
    uint64_t j = 0;
    for (uint64_t bits = chunks; (bits & 1) != 0; bits >>= 1, ++j) {
        value = seed_merge(levels[j], value);
        levels[j] = T();
    }
    levels[j] = value;
    chunks += 1;
}

template <typename T>
inline T seed_collect(const T* levels, uint64_t chunks, T value) {
    for (uint64_t j = 0; chunks >> j; ++j) {
        if ((chunks >> j) & 1) {
            value = seed_merge(levels[j], value);
        }
    }
    return value;
}
"""

_CASCADE_SUM = r"""
// Sum in chunks of kChunkSize values (cascade summation); cascade_sum_final gives the total.
template <typename T, uint64_t kChunkSize>
struct CascadeSumHelper {
    T running = T(0);
    uint64_t in_chunk = 0;
    uint64_t chunks = 0;
    T levels[64] = {};
    CascadeSumHelper() = default;
    explicit CascadeSumHelper(int64_t) {}
};

template <typename T, uint64_t kChunkSize>
inline T cascade_sum_combine(T data, CascadeSumHelper<T, kChunkSize>* h) {
    h->running = h->running + data;
    if (++h->in_chunk == kChunkSize) {
        seed_carry(h->levels, h->chunks, h->running);
        h->running = T(0);
        h->in_chunk = 0;
    }
    return h->running;
}

template <typename T, uint64_t kChunkSize>
inline T cascade_sum_final(CascadeSumHelper<T, kChunkSize>* h) {
    return seed_collect(h->levels, h->chunks, h->running);
}
"""

_WELFORD = r"""
// Running mean and sum of squared deviations (Welford); two partial results merge (Chan et
// al.). A WelfordHelper keeps finished chunks of kChunkSize values for long reductions.
template <typename T>
struct Welford {
    T mean = T(0);
    T m2 = T(0);
    T weight = T(0);
    uint64_t index = 0;
};

template <typename T>
inline Welford<T> welford_combine(const Welford<T>& a, const Welford<T>& b) {
    if (a.weight == T(0)) {
        return b;
    }
    if (b.weight == T(0)) {
        return a;
    }
    T delta = b.mean - a.mean;
    if (std::isinf(a.mean) && a.mean == b.mean) {
        delta = T(0);  // not inf - inf
    }
    const T weight = a.weight + b.weight;
    const T share = b.weight / weight;
    Welford<T> out;
    out.mean = a.mean + delta * share;
    out.m2 = a.m2 + b.m2 + delta * delta * a.weight * share;
    out.weight = weight;
    out.index = a.index + b.index;
    return out;
}

template <typename T>
inline Welford<T> seed_merge(const Welford<T>& a, const Welford<T>& b) {
    return welford_combine(a, b);
}

template <typename T, uint64_t kChunkSize>
struct WelfordHelper {
    uint64_t chunks = 0;
    Welford<T> levels[64] = {};
    WelfordHelper() = default;
    explicit WelfordHelper(int64_t) {}
};

template <typename T>
inline Welford<T> welford_combine(const Welford<T>& acc, T data) {
    Welford<T> out;
    out.index = acc.index + 1;
    out.weight = acc.weight + T(1);
    const T delta = data - acc.mean;
    out.mean = acc.mean + delta / out.weight;
    out.m2 = acc.m2 + delta * (data - out.mean);
    return out;
}

// A full chunk goes to the helper before the next value starts a new one. A helper made
// static (one chunk at most) is never written, so threads may share it.
template <typename T, uint64_t kChunkSize>
inline Welford<T> welford_combine(const Welford<T>& acc, T data, WelfordHelper<T, kChunkSize>* w) {
    if (w != nullptr && acc.index == kChunkSize) {
        seed_carry(w->levels, w->chunks, acc);
        return welford_combine(Welford<T>(), data);
    }
    return welford_combine(acc, data);
}

template <typename T, uint64_t kChunkSize>
inline Welford<T> welford_combine(const Welford<T>& acc, WelfordHelper<T, kChunkSize>* w) {
    return seed_collect(w->levels, w->chunks, acc);
}
"""

_SUMS = ("CascadeSumHelper", "cascade_sum_combine", "cascade_sum_final")
_VARIANCES = ("Welford", "WelfordHelper", "welford_combine")
_PRELUDE_PARTS: tuple[tuple[tuple[str, ...], str], ...] = (
    ((), _BASE),
    (("max_propagate_nan", "min_propagate_nan"), _MIN_MAX),
    (("floor_divide_integral", "seed_floor_div"), _FLOOR_DIV),
    (("mod",), _MOD),
    (("IndexValue", "argmax_combine", "argmin_combine"), _ARG_MIN_MAX),
    ((*_SUMS, *_VARIANCES), _CHUNKS),
    (_SUMS, _CASCADE_SUM),
    (_VARIANCES, _WELFORD),
)
"""C++ put before the kernels instead of ``#include <torch/csrc/inductor/cpp_prefix.h>``: the
first part always, each other part when the kernels name one of its helpers."""
PRELUDE = "".join(text for _, text in _PRELUDE_PARTS)


def prelude_for(kernels: str) -> str:
    """The prelude parts the kernels' C++ needs."""
    used = set(re.findall(r"\w+", kernels))
    return "".join(text for names, text in _PRELUDE_PARTS
                   if not names or used.intersection(names)).lstrip("\n")  # fmt: skip


GraphArgKind = Literal["state", "input"]


class SeedResult(BaseModel):
    source: str | None
    """A complete candidate module defining ``ModelNew``, or None."""
    reason: str
    """How it was made, or why there is none."""
    cached: bool = False
    """Whether this came from the seed cache (no torch.compile run)."""


class TensorInfo(BaseModel):
    shape: list[int]
    stride: list[int]
    dtype: str
    """``float32``, ``int64``: a ``torch`` attribute name."""


class GraphArg(BaseModel):
    """One argument of inductor's ``call``: a parameter/buffer of the model, or an input."""

    kind: GraphArgKind
    name: str = ""
    """The dotted parameter or buffer name (``linear.weight``)."""
    index: int = 0
    """The position among ``forward``'s inputs."""
    tensor: TensorInfo


class ForwardInput(BaseModel):
    """One of ``get_inputs()``: a tensor, or a constant the code was specialised to."""

    tensor: TensorInfo | None = None
    value: bool | int | float | None = None


class SeedPlan(BaseModel):
    """What the harness learned from torch.compile, besides the code itself."""

    name: str
    args: list[GraphArg]
    inputs: list[ForwardInput]
    output: Literal["tensor", "tuple", "list"]
    outputs: int = 1


class NoSeed(Exception):
    """Why no seed can be made."""


class SeedRequest(BaseModel):
    task: str
    nonce: str
    name: str


def compile_seed(
    task: KernelTask, backend: BackendName, options: EvalOptions | None = None
) -> SeedResult:
    """The seed candidate for ``task`` on ``backend``, or ``source=None`` and the reason."""
    if backend == "triton":
        return SeedResult(source=None, reason=(
            "no Triton seed: inductor's Triton output needs an active Triton driver (a GPU, or "
            "triton-cpu for cpu_backend='triton'), and its kernels import torch._inductor.runtime "
            "helpers (triton_helpers, triton_heuristics, libdevice) a candidate may not import"))  # fmt: skip
    if backend == "cuda":
        return SeedResult(source=None, reason=(
            "no CUDA seed: inductor generates Triton, not CUDA C++, for a GPU, so there is no "
            "CUDA source to wrap"))  # fmt: skip
    options = options or EvalOptions()
    cache = options.cache or default_cache()
    path = cache.parent / "seeds" / f"{seed_key(task, backend)}.json"
    made = _cached(path)
    if made is None:
        made, final = _run_harness(task, options, cache)
        if final:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f"{path.stem}.{secrets.token_hex(4)}.tmp")
            temporary.write_text(made.model_dump_json())
            temporary.replace(path)
    if made.source is None:
        return made
    static = check_source(made.source, backend)  # again here, in the trusted process
    if not static.ok:
        where = f" (line {static.line})" if static.line else ""
        return SeedResult(source=None, cached=made.cached,
                          reason="the seed made from torch.compile's code fails the static "
                                 f"pass: {static.reason}{where}")  # fmt: skip
    return made


def seed_key(task: KernelTask, backend: BackendName) -> str:
    """Everything that decides the seed: the task, the backend, the code that makes seeds (this
    module and the harness, so an edit to either is a new key), and the torch that generates
    the code."""
    import torch

    here = Path(__file__).resolve().parent
    files = [here / "seed.py", here / "seed_harness.py"]
    code = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    text = json.dumps([SEED_VERSION, backend, task.source, code, torch.__version__])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _cached(path: Path) -> SeedResult | None:
    if not path.is_file():
        return None
    try:
        made = SeedResult.model_validate_json(path.read_text())
    except ValueError:
        return None
    return made.model_copy(update={"cached": True})


def _run_harness(task: KernelTask, options: EvalOptions, cache: Path) -> tuple[SeedResult, bool]:
    """The harness's verdict, and whether it is final (kept in the cache): not when the harness
    did not finish, nor when torch.compile failed in a way a limit may explain."""
    inductor = cache.parent / "inductor"  # the reference's torch.compile baseline uses it too
    inductor.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="retarget-seed-") as directory:
        scratch = Path(directory)
        (scratch / "task.py").write_text(task.source)
        request = SeedRequest(task=str(scratch / "task.py"), nonce=secrets.token_hex(16),
                              name=task.name)  # fmt: skip
        env = {"TORCHINDUCTOR_CACHE_DIR": str(inductor), "TORCHINDUCTOR_COMPILE_THREADS": "1",
               "RETARGET_KERNEL_CACHE": str(scratch / "build"),
               "OMP_NUM_THREADS": str(os.cpu_count() or 1)}  # fmt: skip
        done = jailed_python("retarget.kernelgen.seed_harness", [], scratch, options.limits,
                             stdin=request.model_dump_json(), writable=[inductor], env=env,
                             options=options)  # fmt: skip
        try:
            result: dict[str, Any] = json.loads((scratch / "result.json").read_text())
        except (OSError, ValueError):
            result = {}
    if result.get("nonce") != request.nonce:
        why = "the time limit was reached" if done.timed_out else f"exit {done.returncode}"
        tail = done.stderr.strip()[-1500:]
        return SeedResult(source=None, reason=f"torch.compile in the sandbox did not finish "
                                              f"({why}): {tail}"), False  # fmt: skip
    source = result.get("source")
    made = SeedResult(source=source if isinstance(source, str) else None,
                      reason=str(result.get("reason", "")))  # fmt: skip
    return made, bool(result.get("final"))


# ---------------------------------------------------------------------------------------------
# From inductor's output code to a candidate (pure text; run in the harness, tested directly).

_PREFIX_INCLUDE = re.compile(r'^[ \t]*#\s*include\s*[<"]torch/csrc/inductor/cpp_prefix\.h[>"][ \t]*\n?', re.M)  # fmt: skip
_ENTRY = re.compile(r'extern\s+"C"\s+void\s+kernel\s*\(')
_STATUS = re.compile(r"\n[ \t]*inductor_cpu_throw_if_integer_div_error\(\s*"
                     r"inductor_cpu_integer_div_error\s*\);\s*\}\s*$")  # fmt: skip
_ATEN = re.compile(r"\b(?:at|c10|torch|aten)::[\w:]+")
_DTYPES = {"float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"}
_BUILTINS = frozenset(dir(builtins))


class _Kernel(BaseModel):
    name: str
    source: str
    status: bool
    """Whether the kernel returns inductor's integer-division error flag."""
    widened: int = 0
    """How many float sums accumulate in double."""


class Candidate(BaseModel):
    source: str
    kernels: list[str]
    widened: int = 0


def candidate_source(code: str, plan: SeedPlan, task_source: str) -> Candidate:
    """The candidate module for inductor's output ``code`` (raises :class:`NoSeed`)."""
    tree = ast.parse(code)
    kernels = _kernels(tree)
    call = _call_function(tree)
    imports, init = model_init(task_source)
    forward = _Forward(plan, kernels)
    body = forward.translate(call)
    body.append(f"return {_returned(plan, forward.outputs)}")
    source = _module(plan, imports, init, kernels, body)
    return Candidate(source=source, kernels=list(kernels),
                     widened=sum(k.widened for k in kernels.values()))  # fmt: skip


def _kernels(tree: ast.Module) -> dict[str, _Kernel]:
    found: dict[str, _Kernel] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        func = ast.unparse(node.value.func)
        if not func.startswith("async_compile."):
            continue
        name = ast.unparse(node.targets[0])
        if func != "async_compile.cpp_pybinding":
            raise NoSeed(f"torch.compile made a {func.split('.')[-1]} kernel ({name}), not "
                         "plain C++: no seed")  # fmt: skip
        text = node.value.args[1] if len(node.value.args) > 1 else None
        if not (isinstance(text, ast.Constant) and isinstance(text.value, str)):
            raise NoSeed(f"kernel {name}: its C++ source is not a literal")
        found[name] = _kernel_source(name, text.value)
    return found


_C10_RENAMES = {"c10::div_floor_integer": "seed_floor_div"}
"""c10 helpers of index arithmetic, header-only integer code, and the prelude's own version."""


def _kernel_source(name: str, text: str) -> _Kernel:
    text = _PREFIX_INCLUDE.sub("", text)
    for helper, mine in _C10_RENAMES.items():
        text = re.sub(rf"\b{re.escape(helper)}\s*\(", f"{mine}(", text)
    aten = sorted(set(_ATEN.findall(text)))
    if aten:
        raise NoSeed(f"kernel {name} uses ATen/c10 in its C++ ({', '.join(aten[:4])}): no seed")
    entries = _ENTRY.findall(text)
    if len(entries) != 1:
        raise NoSeed(f'kernel {name}: expected one extern "C" void kernel(...), found '
                     f"{len(entries)}")  # fmt: skip
    status = bool(_STATUS.search(text))
    if status:
        text = _STATUS.sub("\n    return inductor_cpu_integer_div_error;\n}", text)
    result = "int" if status else "void"
    text = _ENTRY.sub(f'extern "C" {result} {name}(', text)
    text, widened = _widen_sums(text)
    return _Kernel(name=name, source=text.strip() + "\n", status=status, widened=widened)


_SUM = re.compile(r"^([ \t]*)float (tmp_acc\d+(?:_local)?) = 0;[ \t]*$", re.M)


def _widen_sums(text: str) -> tuple[str, int]:
    """Plain float sums (``float acc = 0;``, ``acc = acc + v;``, stores of ``acc``) accumulate
    in double: inductor's scalar loop adds up to 4096 values in a row before its cascade
    helper starts, which drifts past the evaluator's 1e-4 on sums near zero; double does not.
    An accumulator used any other way stays float."""
    count = 0
    for match in reversed(list(_SUM.finditer(text))):
        name = match.group(2)
        scope = text[match.start() : _block_end(text, match.end())]
        uses = [line.strip() for line in scope.splitlines() if re.search(rf"\b{name}\b", line)]
        if all(_plain_sum_use(line, name) for line in uses):
            start, end = match.span()
            text = f"{text[:start]}{match.group(1)}double {name} = 0;{text[end:]}"
            count += 1
    return text, count


def _block_end(text: str, start: int) -> int:
    """Where the brace block around ``start`` closes (a declaration's scope ends)."""
    depth = 0
    for k in range(start, len(text)):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth < 0:
                return k
    return len(text)


def _plain_sum_use(line: str, name: str) -> bool:
    word = rf"\b{re.escape(name)}\b"
    if line in (f"float {name} = 0;", f"double {name} = 0;"):
        return True
    update = re.fullmatch(rf"{word} = {word} \+ (.+);", line)
    if update:
        return not re.search(word, update.group(1))
    store = re.fullmatch(rf"(\w+\[[^=]+\]) = {word};", line)
    return bool(store) and not re.search(word, store.group(1) if store else "")


def _call_function(tree: ast.Module) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "call":
            return node
        if isinstance(node, ast.ClassDef) and node.name == "Runner":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "call":
                    return item
    raise NoSeed("torch.compile's code has no call() function")


def model_init(task_source: str) -> tuple[list[str], str | None]:
    """The task's allowed imports and ``Model.__init__`` (as source), checked to use nothing
    else from the task module."""
    tree = ast.parse(task_source)
    imports: list[str] = []
    bound: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            kept = [a for a in node.names if a.name in ALLOWED_IMPORTS]
            for alias in kept:
                imports.append(ast.unparse(ast.Import(names=[alias])))
                bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and not node.level:
            module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if module in ALLOWED_IMPORTS and (full in ALLOWED_IMPORTS or alias.name[:1].isupper()
                                                  or module in ("math", "typing")):  # fmt: skip
                    imports.append(ast.unparse(ast.ImportFrom(module=module, names=[alias],
                                                              level=0)))  # fmt: skip
                    bound.add(alias.asname or alias.name)
    model = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model"), None)
    if model is None:
        raise NoSeed("the task defines no class Model")
    init = next((n for n in model.body if isinstance(n, ast.FunctionDef)
                 and n.name == "__init__"), None)  # fmt: skip
    if init is None:
        return imports, None
    init = _plain_super(init)
    free = _free_names(init) - bound - _BUILTINS - {"torch"}
    if free:
        raise NoSeed("Model.__init__ uses names of the task module "
                     f"({', '.join(sorted(free))}): its weights cannot be made the same way")  # fmt: skip
    return imports, ast.unparse(init)


def _plain_super(init: ast.FunctionDef) -> ast.FunctionDef:
    """``super(Model, self)`` becomes ``super()`` (there is no ``Model`` in the candidate)."""

    class Rewrite(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            self.generic_visit(node)
            if isinstance(node.func, ast.Name) and node.func.id == "super" and node.args:
                node.args = []
            return node

    copy = ast.parse(ast.unparse(init)).body[0]
    assert isinstance(copy, ast.FunctionDef)
    fixed = Rewrite().visit(copy)
    assert isinstance(fixed, ast.FunctionDef)
    return ast.fix_missing_locations(fixed)


def _free_names(fn: ast.FunctionDef) -> set[str]:
    arguments = fn.args
    bound = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    bound |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    loaded: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store | ast.Del) else loaded).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return loaded - bound


class _Forward:
    """``call``'s statements as ``forward``'s, over the layouts it allocates."""

    def __init__(self, plan: SeedPlan, kernels: dict[str, _Kernel]) -> None:
        self.plan = plan
        self.kernels = kernels
        self.lines: list[str] = []
        self.layouts: dict[str, tuple[list[int], list[int]]] = {}
        self.outputs: list[str] = []

    def translate(self, call: ast.FunctionDef) -> list[str]:
        self._inputs()
        unpacked = False
        for stmt in call.body:
            if not unpacked:
                self._unpack(stmt)
                unpacked = True
                continue
            self._statement(stmt)
        if not self.outputs and self.plan.outputs:
            raise NoSeed("torch.compile's call() returns nothing")
        return self.lines

    def _inputs(self) -> None:
        for k, value in enumerate(self.plan.inputs):
            if value.tensor is None:
                self.lines.append(f"if input{k} != {value.value!r}:")
                self.lines.append(f"    raise ValueError('this seed was made for input {k} == "
                                  f"{value.value!r}')")  # fmt: skip

    def _unpack(self, stmt: ast.stmt) -> None:
        if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name)
                and stmt.value.id == "args"):  # fmt: skip
            raise NoSeed(f"unexpected first statement in call(): {ast.unparse(stmt)}")
        target = stmt.targets[0]
        names = [e.id for e in target.elts if isinstance(e, ast.Name)] if isinstance(
            target, ast.Tuple) else [target.id] if isinstance(target, ast.Name) else []  # fmt: skip
        if len(names) != len(self.plan.args):
            raise NoSeed(f"call() takes {len(names)} arguments, the graph has "
                         f"{len(self.plan.args)} inputs")  # fmt: skip
        for name, arg in zip(names, self.plan.args, strict=True):
            self._bind(name, arg)

    def _bind(self, name: str, arg: GraphArg) -> None:
        info = arg.tensor
        if info.dtype not in _DTYPES:
            raise NoSeed(f"a {info.dtype} tensor: the seed handles {', '.join(sorted(_DTYPES))}")
        if arg.kind == "input":
            source, what = f"input{arg.index}", f"input {arg.index}"
        else:
            source, what = _attribute(arg.name), arg.name
        shape = tuple(info.shape)
        self.lines.append(f"if tuple({source}.shape) != {shape!r} or {source}.dtype != "
                          f"torch.{info.dtype} or {source}.device.type != 'cpu':")  # fmt: skip
        self.lines.append(f"    raise ValueError('this seed was made for {what} as a CPU "
                          f"{info.dtype} tensor of shape {shape!r}')")  # fmt: skip
        if _contiguous(info.shape, info.stride):
            self.lines.append(f"{name} = {source}.contiguous()")
        else:
            self.lines.append(f"{name} = {source}")
            self.lines.append(f"if {name}.stride() != {tuple(info.stride)!r}:")
            self.lines.append(f"    raise ValueError('this seed was made for {what} with "
                              f"strides {tuple(info.stride)!r}')")  # fmt: skip
        self.layouts[name] = (info.shape, info.stride)

    def _statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Delete | ast.Pass):
            return
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self._call_statement(stmt.value)
            return
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
                stmt.targets[0], ast.Name):  # fmt: skip
            self._assign(stmt.targets[0].id, stmt.value)
            return
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            values = stmt.value.elts if isinstance(stmt.value, ast.Tuple | ast.List) else [
                stmt.value]  # fmt: skip
            self.outputs = [self._view(v) for v in values]
            return
        raise NoSeed(f"torch.compile's call() does something the seed does not translate: "
                     f"{_short(stmt)}")  # fmt: skip

    def _call_statement(self, call: ast.Call) -> None:
        func = ast.unparse(call.func)
        if func in ("args.clear", "assert_size_stride", "assert_alignment"):
            if func == "assert_size_stride":
                self._check_assert(call)
            return
        if func in self.kernels:
            arguments = ", ".join(self._pointer(a) for a in call.args)
            kernel = self.kernels[func]
            if kernel.status:
                self.lines.append(f"if kernels.{func}({arguments}) != 0:")
                self.lines.append(f"    raise ZeroDivisionError('integer division by zero in "
                                  f"{func}')")  # fmt: skip
            else:
                self.lines.append(f"kernels.{func}({arguments})")
            return
        raise NoSeed(_extern_reason(func, call))

    def _check_assert(self, call: ast.Call) -> None:
        name = ast.unparse(call.args[0]) if call.args else ""
        if name not in self.layouts or len(call.args) < 3:
            return  # a check of inductor's own buffers
        shape, stride = _ints(call.args[1]), _ints(call.args[2])
        if (shape, stride) != self.layouts[name]:
            raise NoSeed(f"call() expects {name} with size {shape} and stride {stride}, the "
                         f"graph input has {self.layouts[name]}")  # fmt: skip

    def _assign(self, name: str, value: ast.expr) -> None:
        if isinstance(value, ast.Name):
            if value.id not in self.layouts:
                raise NoSeed(f"call() uses {value.id} before it is made")
            self.lines.append(f"{name} = {value.id}")
            self.layouts[name] = self.layouts[value.id]
            return
        if isinstance(value, ast.Call):
            func = ast.unparse(value.func)
            if func == "empty_strided_cpu":
                shape, stride = _ints(value.args[0]), _ints(value.args[1])
                dtype = ast.unparse(value.args[2]).removeprefix("torch.")
                if dtype not in _DTYPES:
                    raise NoSeed(f"a {dtype} buffer: the seed handles {', '.join(sorted(_DTYPES))}")
                self.lines.append(f"{name} = torch.empty_strided({tuple(shape)!r}, "
                                  f"{tuple(stride)!r}, dtype=torch.{dtype})")  # fmt: skip
                self.layouts[name] = (shape, stride)
                return
            if func == "reinterpret_tensor":
                self.lines.append(f"{name} = {self._view(value)}")
                self.layouts[name] = (_ints(value.args[1]), _ints(value.args[2]))
                return
            raise NoSeed(_extern_reason(func, value))
        raise NoSeed(f"torch.compile's call() assigns something the seed does not translate: "
                     f"{_short(value)}")  # fmt: skip

    def _pointer(self, node: ast.expr) -> str:
        """A kernel argument: only its data pointer (or value) matters."""
        if isinstance(node, ast.Name):
            if node.id not in self.layouts:
                raise NoSeed(f"a kernel is given {node.id}, which call() never made")
            return node.id
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return repr(node.value)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "reinterpret_tensor":
            base, offset = self._reinterpreted(node)
            return base if offset == 0 else self._offset(base, offset)
        raise NoSeed(f"a kernel argument the seed does not translate: {_short(node)}")

    def _reinterpreted(self, node: ast.Call) -> tuple[str, int]:
        base = node.args[0]
        if not isinstance(base, ast.Name) or base.id not in self.layouts:
            raise NoSeed(f"reinterpret_tensor of something call() never made: {_short(node)}")
        offset = node.args[3] if len(node.args) > 3 else ast.Constant(0)
        if not (isinstance(offset, ast.Constant) and isinstance(offset.value, int)):
            raise NoSeed(f"reinterpret_tensor with a symbolic offset: {_short(node)}")
        return base.id, offset.value

    def _offset(self, base: str, offset: int) -> str:
        shape, stride = self.layouts[base]
        if not _contiguous(shape, stride):
            raise NoSeed(f"an offset into the non-contiguous buffer {base}")
        return f"{base}.view(-1)[{offset}:]"

    def _view(self, node: ast.expr) -> str:
        """An output or a named view: the same name, or views that give reinterpret_tensor's
        layout."""
        if isinstance(node, ast.Name):
            if node.id not in self.layouts:
                raise NoSeed(f"call() returns {node.id}, which it never made")
            return node.id
        if not (isinstance(node, ast.Call) and ast.unparse(node.func) == "reinterpret_tensor"):
            raise NoSeed(f"call() returns something the seed does not translate: {_short(node)}")
        base, offset = self._reinterpreted(node)
        shape, stride = _ints(node.args[1]), _ints(node.args[2])
        if (shape, stride) == self.layouts[base] and offset == 0:
            return base
        base_shape, base_stride = self.layouts[base]
        order = sorted(range(len(shape)), key=lambda d: -stride[d])  # outermost first
        stored = [shape[d] for d in order]
        if not (_contiguous(base_shape, base_stride)
                and _contiguous(stored, [stride[d] for d in order])):  # fmt: skip
            raise NoSeed(f"reinterpret_tensor({base}, {shape}, {stride}, {offset}): a layout "
                         "plain views cannot give")  # fmt: skip
        count = _numel(shape)
        flat = base if offset == 0 and count == _numel(base_shape) else (
            f"{base}.view(-1)[{offset}:{offset + count}]")  # fmt: skip
        view = f"{flat}.view({tuple(stored)!r})"
        if order != sorted(order):
            view += f".permute{tuple(order.index(d) for d in range(len(shape)))!r}"
        return view


def _extern_reason(func: str, call: ast.Call) -> str:
    if func.startswith("extern_kernels."):
        op = func.removeprefix("extern_kernels.")
        gemm = (" (inductor's C++ GEMM template, max_autotune with the CPP backend, takes only "
                "a constant second operand: frozen weights baked into the code, and its "
                "micro-kernels use at::vec)") if op in (
                    "mm", "addmm", "bmm", "baddbmm") else ""  # fmt: skip
        return f"torch.compile's code calls aten {op} (extern kernel){gemm}: no seed"
    for prefix in ("torch.ops.aten.", "aten."):
        if func.startswith(prefix):
            op = func.removeprefix(prefix).split(".")[0]
            return f"torch.compile's code calls aten {op} (fallback kernel): no seed"
    return f"torch.compile's call() calls {func}, which the seed does not translate: no seed"


def _attribute(name: str) -> str:
    parts = name.split(".")
    text = "self"
    for part in parts:
        if part.isdigit():
            text += f"[{part}]"
        elif part.isidentifier() and not part.startswith("__"):
            text += f".{part}"
        else:
            raise NoSeed(f"the parameter name {name!r} cannot be written as an attribute path")
    return text


def _ints(node: ast.expr) -> list[int]:
    value = ast.literal_eval(node)
    if not isinstance(value, tuple | list) or not all(isinstance(v, int) for v in value):
        raise NoSeed(f"a size or stride that is not static: {_short(node)}")
    return list(value)


def _numel(shape: list[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def _contiguous(shape: list[int], stride: list[int]) -> bool:
    expected = 1
    for size, step in zip(reversed(shape), reversed(stride), strict=True):
        if size != 1 and step != expected:
            return False
        expected *= size
    return True


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) < 160 else text[:157] + "..."


def _literal(text: str) -> str:
    if '"""' not in text and not text.endswith("\\"):
        return f'r"""{text}"""'
    return repr(text)


def _returned(plan: SeedPlan, outputs: list[str]) -> str:
    if len(outputs) != plan.outputs:
        raise NoSeed(f"call() returns {len(outputs)} values, the model {plan.outputs}")
    if plan.output == "tensor":
        return outputs[0]
    if plan.output == "list":
        return "[" + ", ".join(outputs) + "]"
    return "(" + "".join(f"{o}, " for o in outputs).rstrip() + ")"


def _module(
    plan: SeedPlan, imports: list[str], init: str | None, kernels: dict[str, _Kernel],
    body: list[str],
) -> str:  # fmt: skip
    if not kernels:
        raise NoSeed("torch.compile's code has no C++ kernel (the graph computes nothing "
                     "inductor generates code for): no seed")  # fmt: skip
    name = "seed_" + re.sub(r"\W", "_", plan.name)
    header = dict.fromkeys(["import torch", *imports,
                            "from retarget.kernelgen.native import load_cpp"])  # fmt: skip
    signature = ", ".join(["self", *(f"input{k}" for k in range(len(plan.inputs)))])
    sources = "\n" + "\n".join(k.source for k in kernels.values())
    lines = [
        f'"""Seed for {plan.name}: the C++ torch.compile (inductor, scalar) generated for the '
        'reference, for its shapes only."""',
        "",
        *header,
        "",
        f"PRELUDE = {_literal(prelude_for(sources))}",
        "",
        f"KERNELS = {_literal(sources)}",
        "",
        f"kernels = load_cpp({name!r}, [PRELUDE, KERNELS], functions={list(kernels)!r},",
        f"                   extra_cflags={CFLAGS!r}, extra_ldflags={LDFLAGS!r})",
        "",
        "",
        "class ModelNew(torch.nn.Module):",
    ]
    if init is not None:
        lines += ["    " + line for line in init.splitlines()]
        lines.append("")
    lines.append(f"    def forward({signature}):")
    lines += ["        " + line for line in body]
    return "\n".join(lines) + "\n"
