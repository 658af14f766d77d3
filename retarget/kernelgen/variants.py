"""Variants of a task that the tester may ask for: other shapes and other input values.

A KernelBench task sets its sizes as module-level constants (``batch_size = 16``) that
``get_inputs`` and ``get_init_inputs`` read; those are what a variant may change (each a
positive integer no more than twice the original, so a variant costs no more than a few times
the task). Values: a scale applied to every floating-point input (large magnitudes for
softmax's overflow, tiny ones for underflow). A variant is a new task source; the original
file is never touched.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from pydantic import BaseModel, Field

from retarget.kernelgen.task import KernelTask

MAX_GROWTH = 2
SCALE_RANGE = (1e-4, 1e4)


class Variant(BaseModel):
    """Changed constants and an input scale; the empty variant is the task itself."""

    constants: dict[str, int] = Field(default_factory=dict)
    scale: float = 1.0

    def label(self) -> str:
        parts = [f"{k}={v}" for k, v in sorted(self.constants.items())]
        if self.scale != 1.0:
            parts.append(f"inputs x{self.scale:g}")
        return ", ".join(parts) or "as given"


def shape_constants(task: KernelTask) -> dict[str, int]:
    """The task's module-level integer constants (its sizes), by name."""
    found: dict[str, int] = {}
    for node in ast.parse(task.source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
            if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
                if type(value.value) is int and value.value > 0:
                    found[target.id] = value.value
    return found


def check_variant(task: KernelTask, proposed: dict[str, Any]) -> Variant | None:
    """A model's proposal as a variant within bounds, or None when it asks for anything
    else (unknown names, non-integers, sizes out of range, a scale that is not finite)."""
    known = shape_constants(task)
    constants = proposed.get("constants", {})
    scale = proposed.get("scale", 1.0)
    if not isinstance(constants, dict) or not isinstance(scale, int | float):
        return None
    if isinstance(scale, bool) or not math.isfinite(scale):
        return None
    if not SCALE_RANGE[0] <= abs(scale) <= SCALE_RANGE[1]:
        return None
    for name, value in constants.items():
        if name not in known or type(value) is not int:
            return None
        if not 1 <= value <= known[name] * MAX_GROWTH:
            return None
    variant = Variant(constants=dict(constants), scale=float(scale))
    return variant if variant.constants or variant.scale != 1.0 else None


def apply_variant(task: KernelTask, variant: Variant) -> KernelTask:
    """The task's source with the constants replaced and, for a scale, ``get_inputs``
    wrapped so that floating-point tensors are multiplied by it."""
    tree = ast.parse(task.source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in variant.constants:
                node.value = ast.Constant(variant.constants[target.id])
    source = ast.unparse(tree) + "\n"
    if variant.scale != 1.0:
        source += (
            "\n\n_retarget_get_inputs = get_inputs\n\n\n"
            "def get_inputs():\n"
            "    return [v * " + repr(variant.scale) + " if isinstance(v, torch.Tensor) and "
            "v.is_floating_point() else v for v in _retarget_get_inputs()]\n"
        )
        if "import torch" not in source:
            source = "import torch\n" + source
    name = f"{task.name}[{variant.label()}]"
    return KernelTask(name=name, path=task.path, source=source)
