"""What the kernel problem tells the models: the task, the rules the evaluator enforces, the
earlier candidates, the judge's plan; and what the judge and the tester are asked."""

from __future__ import annotations

from retarget.llm.types import Message

RULES = (
    "The evaluator runs your module in a sandbox and rejects it unless all of these hold:\n"
    "- it defines `class ModelNew(nn.Module)` with the same constructor arguments as `Model`, "
    "creating the same parameters in the same order (both are built under the same seed);\n"
    "- `forward` reaches a real kernel of the backend; it may allocate (`torch.empty`, "
    "`empty_like`), view and reshape, read parameters, and launch kernels, but not compute "
    "with torch (no torch functions, tensor math, `@`, submodule calls or aten in C++);\n"
    "- no try/except, no inheriting `Model`, no frame/inspect/gc access, no threads, files, "
    "sockets or environment access; imports only torch, triton, math and the loaders;\n"
    "- outputs match the reference (fp32 atol=rtol=1e-4) over fresh inputs and weights, "
    "inputs are left unchanged, and repeated runs agree."
)

BACKEND_NOTES = {
    "cpp": (
        'Backend cpp: C++ for the CPU, OpenMP allowed. Either plain `extern "C"` functions '
        "loaded with `from retarget.kernelgen.native import load_cpp` — `kernels = load_cpp("
        '"name", SOURCE, functions=["f"], extra_cflags=["-O3", "-fopenmp"], '
        'extra_ldflags=["-fopenmp"])`, tensors are passed as pointers (`const float*`), '
        "integers as `int64_t` — or torch's `load_inline` with `torch::Tensor` arguments "
        "(slower to build). The loader call sits at module level with literal arguments."
    ),
    "triton": (
        "Backend triton: `@triton.jit` kernels launched from `forward` with a grid; without a "
        "GPU they run in the Triton interpreter and are also compiled for sm_90, so use only "
        "`tl` operations that compile for a GPU."
    ),
    "cuda": (
        "Backend cuda: CUDA C++ through `torch.utils.cpp_extension.load_inline(name=..., "
        "cpp_sources=..., cuda_sources=..., functions=[...])` at module level with literal "
        "arguments; kernels are launched from the C++ wrapper, which may allocate with "
        "`torch::empty` but not call aten compute."
    ),
}

CODER_ROLE = (
    "You write fast, exact kernels for PyTorch operators. Answer with one fenced ```python "
    "block holding the complete candidate module; nothing outside the block is read."
)
JUDGE_ROLE = (
    "You are the judge of a kernel optimization loop. You read a candidate, its evaluation "
    "and its profile, and tell the coder what to do next. Answer with one fenced ```json "
    'block. For a failed candidate: {"diagnosis": what went wrong and why, "fix": the '
    'change to make}. For a correct one: {"bottleneck": what limits its speed, read off '
    'the profile, "method": the optimization technique to apply, "plan": concrete steps}.'
)
TESTER_ROLE = (
    "You find task variants on which a kernel is easy to get wrong: sizes that are not "
    "multiples of a block or vector width, size 1, and input magnitudes that overflow or "
    "underflow a naive implementation. Answer with one fenced ```json block: a list of at "
    'most 3 objects {"constants": {NAME: integer}, "scale": number}, using only the '
    "constants listed."
)


def coder_messages(
    task_source: str,
    backend: str,
    seed_note: str,
    history: list[tuple[str, str]],
    feedback: str,
    variant: int,
) -> list[Message]:
    """``history``: (code, verdict and summary) of earlier candidates, oldest first; the last
    two are shown."""
    parts = [
        f"Write `ModelNew` for this task, backend {backend}.",
        f"The task:\n```python\n{task_source.rstrip()}\n```",
        RULES,
        BACKEND_NOTES[backend],
    ]
    if seed_note:
        parts.append(seed_note)
    for code, verdict in history[-2:]:
        parts.append(f"An earlier candidate ({verdict}):\n```python\n{code.rstrip()}\n```")
    if feedback:
        parts.append(feedback)
    parts.append(f"(candidate {variant})")
    return [
        Message(role="system", content=CODER_ROLE),
        Message(role="user", content="\n\n".join(parts)),
    ]


def judge_messages(task_source: str, code: str, summary: str, correct: bool) -> list[Message]:
    kind = "correct" if correct else "failed"
    text = (
        f"The task:\n```python\n{task_source.rstrip()}\n```\n\n"
        f"The best candidate so far ({kind}):\n```python\n{code.rstrip()}\n```\n\n"
        f"Its evaluation:\n{summary}"
    )
    return [Message(role="system", content=JUDGE_ROLE), Message(role="user", content=text)]


def tester_messages(task_source: str, constants: dict[str, int]) -> list[Message]:
    listed = ", ".join(f"{k} = {v}" for k, v in constants.items()) or "none"
    text = (
        f"The task:\n```python\n{task_source.rstrip()}\n```\n\n"
        f"Constants a variant may change (each from 1 to twice its value): {listed}. "
        "The scale multiplies every floating-point input (1e-4 to 1e4 in magnitude)."
    )
    return [Message(role="system", content=TESTER_ROLE), Message(role="user", content=text)]
