"""Comparing a candidate's outputs with the reference's: every output, its shape and dtype,
NaN/inf in the same places, values within the reference dtype's tolerance."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

TOLERANCE = {"float32": 1e-4, "float64": 1e-4, "float16": 1e-2, "bfloat16": 1e-2}
"""atol = rtol, by the reference output's dtype (KernelBench's fp16/bf16 1e-2; fp32 1e-4)."""


class Comparison(BaseModel):
    ok: bool
    reason: str = ""
    max_abs_error: float = 0.0


def tolerance(dtype: Any) -> float:
    return TOLERANCE.get(str(dtype).removeprefix("torch."), 0.0)


def compare(got: list[Any], want: list[Any]) -> Comparison:
    import torch

    if len(got) != len(want):
        return Comparison(ok=False, reason=f"{len(got)} outputs, the reference has {len(want)}")
    worst = 0.0
    for k, (a, b) in enumerate(zip(got, want, strict=True)):
        if not isinstance(b, torch.Tensor):
            if a != b:
                return Comparison(ok=False, reason=f"output {k}: {a!r} instead of {b!r}")
            continue
        if not isinstance(a, torch.Tensor):
            return Comparison(ok=False, reason=f"output {k}: {type(a).__name__}, not a tensor")
        if a.shape != b.shape:
            return Comparison(ok=False, reason=f"output {k}: shape {tuple(a.shape)}, "
                              f"the reference has {tuple(b.shape)}")  # fmt: skip
        if a.dtype != b.dtype:
            return Comparison(ok=False, reason=f"output {k}: dtype {a.dtype}, the reference "
                              f"has {b.dtype}")  # fmt: skip
        if not b.is_floating_point():
            if not torch.equal(a, b):
                return Comparison(ok=False, reason=f"output {k}: values differ")
            continue
        x, y = a.double(), b.double()
        for name, mask in (("NaN", torch.isnan), ("inf", torch.isinf)):
            if not torch.equal(mask(x), mask(y)):
                return Comparison(ok=False, reason=f"output {k}: {name} in other places")
        infinite = torch.isinf(y)
        if not torch.equal(x[infinite], y[infinite]):
            return Comparison(ok=False, reason=f"output {k}: inf of another sign")
        finite = torch.isfinite(y)
        diff = (x[finite] - y[finite]).abs()
        error = float(diff.max()) if diff.numel() else 0.0
        worst = max(worst, error)
        tol = tolerance(b.dtype)
        limit = tol + tol * y[finite].abs()
        if bool((diff > limit).any()):
            index = int((diff - limit).argmax())
            return Comparison(ok=False, max_abs_error=worst,
                              reason=f"output {k}: max abs error {error:.3g} beyond "
                                     f"atol=rtol={tol:g} (first bad value {float(x[finite][index]):.6g}"
                                     f" vs {float(y[finite][index]):.6g})")  # fmt: skip
    return Comparison(ok=True, max_abs_error=worst)
