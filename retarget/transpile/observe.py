"""Compare what a caller can observe of two runs of the same call, and say what differs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from retarget.sandbox.emulator import EndKind, RunOutcome
from retarget.testgen.ctype import CType, TypeKind
from retarget.testgen.inputs import InputPlan, Role, decode_buffer, decode_scalar, element_type


@dataclass(frozen=True)
class Difference:
    observable: str
    expected: str
    got: str


def compare(plan: InputPlan, ref: RunOutcome, cand: RunOutcome) -> Difference | None:
    """The first observable on which ``cand`` differs from ``ref``, or None."""
    ended = _compare_end(ref, cand)
    if ended is not None:
        return ended
    ref_calls = [c.render() for c in ref.calls if c.observable]
    cand_calls = [c.render() for c in cand.calls if c.observable]
    if ref.end.kind is not EndKind.RETURNED:
        return _compare_calls(ref_calls, cand_calls)
    for check in (
        _compare_abi(ref, cand),
        _compare_return(plan, ref, cand),
        _compare_buffers(plan, ref, cand),
        _compare_globals(ref, cand),
        _compare_heap(ref, cand),
        _compare_calls(ref_calls, cand_calls),
    ):
        if check is not None:
            return check
    return None


def _compare_end(ref: RunOutcome, cand: RunOutcome) -> Difference | None:
    want, got = ref.end, cand.end
    if want.kind is not got.kind:
        return Difference("how the call ended", _describe_end(ref), _describe_end(cand))
    if want.kind is EndKind.FAULT and (want.access, want.where) != (got.access, got.where):
        return Difference("fault", want.detail, got.detail)
    return None


def _describe_end(out: RunOutcome) -> str:
    if out.end.kind is EndKind.RETURNED:
        return "returned normally"
    return f"{out.end.kind.value}: {out.end.detail}"


def _compare_abi(ref: RunOutcome, cand: RunOutcome) -> Difference | None:
    extra = [v for v in cand.abi_violations if v not in ref.abi_violations]
    if extra:
        return Difference("calling convention", "ABI respected", "; ".join(extra))
    return None


def _same_float(ctype: CType, a: int | float, b: int | float) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b))


def show_scalar(ctype: CType, bits: int) -> str:
    value = decode_scalar(ctype, bits)
    if ctype.kind is TypeKind.POINTER:
        return f"{bits:#x}"
    if ctype.kind is TypeKind.FLOAT:
        return f"{value!r} ({bits:#0{ctype.bits // 4 + 2}x})"
    return f"{value} ({bits:#x})" if abs(int(value)) > 9 else str(value)


def _compare_return(plan: InputPlan, ref: RunOutcome, cand: RunOutcome) -> Difference | None:
    ctype = plan.prototype.returns
    if ctype.kind is TypeKind.VOID or ref.return_bits is None or cand.return_bits is None:
        return None
    if ctype.kind is TypeKind.POINTER:
        if ref.return_target == cand.return_target:
            return None
        return Difference("returned pointer", str(ref.return_target), str(cand.return_target))
    a = decode_scalar(ctype, ref.return_bits)
    b = decode_scalar(ctype, cand.return_bits)
    if ctype.kind is TypeKind.FLOAT and _same_float(ctype, a, b):
        return None
    if ctype.kind is not TypeKind.FLOAT and ref.return_bits == cand.return_bits:
        return None
    return Difference(
        "return value", show_scalar(ctype, ref.return_bits), show_scalar(ctype, cand.return_bits)
    )


def _compare_buffers(plan: InputPlan, ref: RunOutcome, cand: RunOutcome) -> Difference | None:
    pointers = [p for p in plan.params if p.role in (Role.BUFFER, Role.STRING)]
    for p, want, got in zip(pointers, ref.buffers, cand.buffers, strict=True):
        if want == got:
            continue
        elem = element_type(p)
        a, b = decode_buffer(elem, want), decode_buffer(elem, got)
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True))
                 if not _same_float(elem, x, y)]  # fmt: skip
        if elem.kind is TypeKind.FLOAT and not diffs:
            continue
        i = diffs[0] if diffs else 0
        label = f"buffer {p.name}" + (" (declared const)" if p.ctype.const_pointee else "")
        return Difference(f"{label}[{i}]", repr(a[i]), repr(b[i]))
    return None


def _compare_globals(ref: RunOutcome, cand: RunOutcome) -> Difference | None:
    for name, want in ref.globals.items():
        got = cand.globals.get(name)
        if got is None:
            return Difference(f"global {name}", "defined and compared", "missing in candidate")
        if want != got:
            i = (
                next(k for k in range(min(len(want), len(got))) if want[k] != got[k])
                if len(want) == len(got)
                else 0
            )
            return Difference(
                f"global {name} (byte {i})", want[i : i + 8].hex(), got[i : i + 8].hex()
            )
    return None


def _compare_heap(ref: RunOutcome, cand: RunOutcome) -> Difference | None:
    if ref.heap == cand.heap:
        return None
    want = {a: d for a, d in ref.heap}
    got = {a: d for a, d in cand.heap}
    for address in sorted(set(want) | set(got)):
        if want.get(address) != got.get(address):
            return Difference(f"heap block at {address:#x}", _show_block(want.get(address)),
                              _show_block(got.get(address)))  # fmt: skip
    return None


def _compare_calls(want: list[str], got: list[str]) -> Difference | None:
    if want == got:
        return None
    i = next((k for k, (a, b) in enumerate(zip(want, got, strict=False)) if a != b),
             min(len(want), len(got)))  # fmt: skip
    expect = want[i] if i < len(want) else "no further call"
    actual = got[i] if i < len(got) else "no further call"
    return Difference(f"external call #{i + 1}", expect, actual)


def _show_block(data: bytes | None) -> str:
    return "freed or never allocated" if data is None else data[:32].hex()
