"""Greedy shrinking of a failing input toward the smallest one that still fails."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from retarget.testgen.inputs import InputPlan, Role, TestInput, Value, resize_buffers
from retarget.transpile.observe import Difference

MAX_ATTEMPTS = 150


def shrink(
    plan: InputPlan,
    test: TestInput,
    diff: Difference,
    differs: Callable[[TestInput], Difference | None],
) -> tuple[TestInput, Difference]:
    """Try simpler variants one parameter at a time; keep each one that still fails."""
    rng = random.Random(0)
    attempts = 0
    improved = True
    while improved and attempts < MAX_ATTEMPTS:
        improved = False
        for candidate in _variants(plan, test, rng):
            if candidate.weight() >= test.weight():
                continue
            attempts += 1
            found = differs(candidate)
            if found is not None:
                test, diff, improved = candidate, found, True
                break
            if attempts >= MAX_ATTEMPTS:
                break
    return test, diff


def _variants(plan: InputPlan, test: TestInput, rng: random.Random) -> Iterator[TestInput]:
    for p in plan.params:
        value = test.values[p.name]
        for simpler in _simpler(p.role, value):
            variant = test.copy()
            variant.values[p.name] = simpler
            resize_buffers(rng, plan, variant)
            yield variant


def _simpler(role: Role, value: Value) -> list[Value]:
    if isinstance(value, str):
        return [value[: len(value) // 2], value[1:], value[:-1]] if value else []
    if isinstance(value, list):
        if not value:
            return []
        zeroed: list[Any] = [0 if not isinstance(v, float) else 0.0 for v in value]
        small: list[Any] = [v if abs(v) < 16 else 0 for v in value]
        return [zeroed, small] if role is Role.BUFFER else []
    if isinstance(value, float):
        return [0.0, 1.0, float(int(value))] if value == value and abs(value) < 2**53 else [0.0]
    assert isinstance(value, int)
    return [0, 1, value // 2, -value, value - 1 if value > 0 else value + 1]
