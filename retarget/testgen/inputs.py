"""Type-driven inputs: edge values, random values, buffers sized from length parameters.

A ``TestInput`` is ISA-independent: the layout puts buffers at the same addresses on every ISA,
so one input turns into one ``CallSetup`` that both sides of a comparison run.
"""

from __future__ import annotations

import math
import random
import re
import struct
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from retarget.errors import InputError
from retarget.sandbox.emulator import ArgValue, BufferInit, CallSetup
from retarget.sandbox.emulator.layout import buffer_address
from retarget.testgen.ctype import CType, TypeKind
from retarget.testgen.prototype import Prototype

DEFAULT_COUNT = 64
"""Elements in a buffer whose size nothing else gives."""
MAX_STRING = 48

_LENGTH_NAME = re.compile(
    r"^(n|len|length|size|count|cnt|num|nelem|nelems|nmemb|sz|elems)$"
    r"|(_|^)(n|len|length|size|count|cnt|num)$|^n[a-z]$|^num_?\w+$"
)

Value = int | float | list[int] | list[float] | str


class Role(StrEnum):
    SCALAR = "scalar"
    LENGTH = "length"
    BUFFER = "buffer"
    STRING = "string"


@dataclass(frozen=True)
class ParamPlan:
    name: str
    ctype: CType
    role: Role
    count_from: str | None = None
    """For a buffer: the length parameter giving its element count."""
    fixed_count: int | None = None


@dataclass(frozen=True)
class InputPlan:
    prototype: Prototype
    params: tuple[ParamPlan, ...]

    def plan(self, name: str) -> ParamPlan:
        return next(p for p in self.params if p.name == name)


@dataclass
class TestInput:
    __test__ = False  # not a pytest test class

    values: dict[str, Value] = field(default_factory=dict)

    def copy(self) -> TestInput:
        return TestInput({k: list(v) if isinstance(v, list) else v for k, v in self.values.items()})

    def weight(self) -> float:
        """Size used to pick the smallest counterexample."""
        total = 0.0
        for v in self.values.values():
            if isinstance(v, list | str):
                total += 4 * len(v)
            elif isinstance(v, float):
                total += 0 if v == 0 else min(64.0, abs(math.log2(abs(v)) if v == v else 64))
            else:
                total += v.bit_length() if v >= 0 else (-v).bit_length() + 1
        return total


def parse_sizes(text: str | None) -> dict[str, str]:
    """``a=n,b=16`` -> {"a": "n", "b": "16"}."""
    out: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"--sizes expects P=Q pairs separated by commas, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def make_plan(proto: Prototype, sizes: dict[str, str] | None = None) -> InputPlan:
    sizes = dict(sizes or {})
    names = [p.name for p in proto.params]
    for key, value in sizes.items():
        if key not in names:
            raise InputError(f"--sizes names {key!r}, which is not a parameter of {proto.name}")
        if not value.isdigit() and value not in names:
            raise InputError(f"--sizes {key}={value}: {value!r} is neither a count nor a parameter")
    count_from: dict[str, str | None] = {}
    fixed: dict[str, int | None] = {}
    for i, p in enumerate(proto.params):
        if p.ctype.kind is not TypeKind.POINTER:
            continue
        hint = sizes.get(p.name)
        if hint is not None and hint.isdigit():
            fixed[p.name], count_from[p.name] = int(hint), None
        else:
            count_from[p.name] = hint or _next_length(proto, i)
            fixed[p.name] = None
    lengths = {v for v in count_from.values() if v}
    plans = []
    for p in proto.params:
        if p.ctype.kind is TypeKind.POINTER:
            assert p.ctype.pointee is not None
            if p.ctype.pointee.kind is TypeKind.VOID:
                if p.name not in sizes:
                    count_from[p.name] = count_from[p.name] or None
            string = (
                p.ctype.pointee.is_char and count_from[p.name] is None and fixed[p.name] is None
            )
            role = Role.STRING if string else Role.BUFFER
            plans.append(ParamPlan(p.name, p.ctype, role, count_from[p.name], fixed[p.name]))
        elif p.name in lengths and p.ctype.kind is TypeKind.INT:
            plans.append(ParamPlan(p.name, p.ctype, Role.LENGTH))
        else:
            plans.append(ParamPlan(p.name, p.ctype, Role.SCALAR))
    return InputPlan(proto, tuple(plans))


def _next_length(proto: Prototype, index: int) -> str | None:
    for p in proto.params[index + 1 :]:
        if p.ctype.kind is TypeKind.INT and _LENGTH_NAME.search(p.name):
            return p.name
    return None


# --- values ------------------------------------------------------------------------------
def int_edges(ctype: CType) -> list[int]:
    bits = ctype.bits
    lo = -(1 << (bits - 1)) if ctype.signed else 0
    hi = (1 << (bits - 1)) - 1 if ctype.signed else (1 << bits) - 1
    out = {0, 1, 2, hi, hi - 1, lo, lo + 1}
    if ctype.signed:
        out |= {-1, -2}
    for k in (7, 8, 15, 16, 31, 32, 63):
        if k < bits:
            out |= {(1 << k) - 1, 1 << k, (1 << k) + 1}
            if ctype.signed:
                out |= {-(1 << k), -(1 << k) + 1}
    pattern = int("55" * (bits // 8), 16)
    out |= {pattern, pattern << 1 & ((1 << bits) - 1)}
    return sorted(v for v in (_wrap(ctype, x) for x in out) if lo <= v <= hi)


def _wrap(ctype: CType, value: int) -> int:
    bits = ctype.bits
    value &= (1 << bits) - 1
    if ctype.signed and value >> (bits - 1):
        value -= 1 << bits
    return value


FLOAT_EDGES = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-310, -1e-310, 5e-324, 2.2250738585072014e-308,
               1.7976931348623157e308, -1.7976931348623157e308, math.inf, -math.inf, math.nan,
               3.0, 100.0, -7.25, 1e10, 1e-10)  # fmt: skip
FLOAT32_EDGES = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-45, 1.1754943508222875e-38, 3.4028234663852886e38,
                 -3.4028234663852886e38, math.inf, -math.inf, math.nan, 3.0, -7.25, 1e-39)  # fmt: skip


def random_scalar(rng: random.Random, ctype: CType) -> int | float:
    if ctype.kind is TypeKind.BOOL:
        return rng.randint(0, 1)
    if ctype.kind is TypeKind.FLOAT:
        roll = rng.random()
        if roll < 0.25:
            return rng.choice(FLOAT32_EDGES if ctype.bits == 32 else FLOAT_EDGES)
        if roll < 0.5:
            return float(rng.randint(-20, 20))
        if roll < 0.85:
            return _round_float(ctype, rng.uniform(-1000.0, 1000.0))
        raw = rng.getrandbits(ctype.bits)
        fmt = ("<I", "<f") if ctype.bits == 32 else ("<Q", "<d")
        return float(struct.unpack(fmt[1], struct.pack(fmt[0], raw))[0])
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(int_edges(ctype))
    if roll < 0.65:
        return _wrap(ctype, rng.randint(-16, 40))
    return _wrap(ctype, rng.getrandbits(ctype.bits))


def _round_float(ctype: CType, value: float) -> float:
    if ctype.bits == 32:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    return value


def random_string(rng: random.Random, max_len: int = MAX_STRING) -> str:
    length = rng.choice([0, 1, 2, 3, rng.randint(0, max_len), rng.randint(0, 12)])
    alphabet = "abcdefxyzABCXYZ0123456789 _-.,;:!?\t\n" + "\x01\x7f\x80\xe9\xff"
    return "".join(rng.choice(alphabet) for _ in range(min(length, max_len)))


def random_buffer(rng: random.Random, elem: CType, count: int) -> list[int] | list[float]:
    mode = rng.random()
    if mode < 0.15 and elem.kind is not TypeKind.FLOAT:
        value = random_scalar(rng, elem)
        return [int(value)] * count
    if mode < 0.45 and elem.kind is not TypeKind.FLOAT:
        return [_wrap(elem, rng.randint(-9, 9)) for _ in range(count)]
    values: list[Any] = [random_scalar(rng, elem) for _ in range(count)]
    return values


def element_type(plan: ParamPlan) -> CType:
    assert plan.ctype.pointee is not None
    pointee = plan.ctype.pointee
    if pointee.kind is TypeKind.VOID:
        return CType(TypeKind.INT, 8, False, spelling="unsigned char")
    return pointee


def buffer_count(plan: ParamPlan, test: TestInput) -> int:
    if plan.fixed_count is not None:
        return plan.fixed_count
    if plan.count_from is not None:
        value = test.values.get(plan.count_from, DEFAULT_COUNT)
        return max(0, int(value)) if isinstance(value, int) else DEFAULT_COUNT
    return DEFAULT_COUNT


def random_input(rng: random.Random, plan: InputPlan) -> TestInput:
    test = TestInput()
    for p in plan.params:
        if p.role is Role.LENGTH:
            test.values[p.name] = random_length(rng)
        elif p.role is Role.SCALAR:
            test.values[p.name] = random_scalar(rng, p.ctype)
    for p in plan.params:
        if p.role is Role.STRING:
            test.values[p.name] = random_string(rng)
        elif p.role is Role.BUFFER:
            test.values[p.name] = random_buffer(rng, element_type(p), buffer_count(p, test))
    return test


def random_length(rng: random.Random) -> int:
    return rng.choice(
        [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, rng.randint(0, DEFAULT_COUNT)]
    )


def resize_buffers(rng: random.Random, plan: InputPlan, test: TestInput) -> None:
    """Make every buffer as long as its length parameter says (after a mutation)."""
    for p in plan.params:
        if p.role is not Role.BUFFER:
            continue
        buf = test.values[p.name]
        assert isinstance(buf, list)
        want = buffer_count(p, test)
        if len(buf) > want:
            del buf[want:]
        while len(buf) < want:
            buf.append(random_scalar(rng, element_type(p)))  # type: ignore[arg-type]


def _scalar_value(ctype: CType, value: object) -> int | float | None:
    """``value`` as a value of the scalar type ``ctype``, or None when it cannot be one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if ctype.kind is TypeKind.FLOAT:
        return float(value)
    if not isinstance(value, int):
        return None
    low = -(1 << (ctype.bits - 1)) if ctype.signed else 0
    high = (1 << (ctype.bits - 1)) if ctype.signed else (1 << ctype.bits)
    return value if low <= value < high else None


def _proposed_value(p: ParamPlan, value: object) -> Value | None:
    if p.role in (Role.SCALAR, Role.LENGTH):
        scalar = _scalar_value(p.ctype, value)
        if p.role is Role.LENGTH and (not isinstance(scalar, int) or scalar < 0):
            return None
        return scalar
    if p.role is Role.STRING:
        return value if isinstance(value, str) and "\0" not in value else None
    if not isinstance(value, list):
        return None
    element = element_type(p)
    items = [_scalar_value(element, v) for v in value]
    if any(v is None for v in items):
        return None
    if element.kind is TypeKind.FLOAT:
        return [float(v) for v in items if v is not None]
    return [int(v) for v in items if v is not None]


def coerce_input(plan: InputPlan, values: dict[str, object]) -> TestInput | None:
    """A proposed input (a model's edge case: parameter name -> value) as a test, or None
    when it names the parameters wrongly or holds a value its type cannot have. Buffers are
    trimmed or padded to what their length parameter says."""
    if set(values) != {p.name for p in plan.params}:
        return None
    test = TestInput()
    for p in plan.params:
        value = _proposed_value(p, values[p.name])
        if value is None:
            return None
        test.values[p.name] = value
    resize_buffers(random.Random(0), plan, test)
    return test


# --- to a call ---------------------------------------------------------------------------
def encode_scalar(ctype: CType, value: int | float) -> int:
    if ctype.kind is TypeKind.FLOAT:
        fmt = ("<f", "<I") if ctype.bits == 32 else ("<d", "<Q")
        return int(struct.unpack(fmt[1], struct.pack(fmt[0], float(value)))[0])
    return int(value) & ((1 << ctype.bits) - 1)


def decode_scalar(ctype: CType, bits: int) -> int | float:
    if ctype.kind is TypeKind.FLOAT:
        fmt = ("<I", "<f") if ctype.bits == 32 else ("<Q", "<d")
        return float(struct.unpack(fmt[1], struct.pack(fmt[0], bits))[0])
    return _wrap(ctype, bits) if ctype.bits else bits


def encode_buffer(elem: CType, values: list[int] | list[float]) -> bytes:
    return b"".join(encode_scalar(elem, v).to_bytes(elem.size, "little") for v in values)


def decode_buffer(elem: CType, data: bytes) -> list[int | float]:
    size = elem.size
    return [decode_scalar(elem, int.from_bytes(data[i : i + size], "little"))
            for i in range(0, len(data) - size + 1, size)]  # fmt: skip


def to_call(plan: InputPlan, test: TestInput) -> CallSetup:
    args: list[ArgValue] = []
    buffers: list[BufferInit] = []
    for p in plan.params:
        value = test.values[p.name]
        if p.role in (Role.BUFFER, Role.STRING):
            data = _buffer_bytes(p, value)
            elem = element_type(p)
            align = min(8, max(1, elem.size))
            address = buffer_address(len(buffers), len(data), align)
            buffers.append(BufferInit(p.name, data, align))
            args.append(ArgValue(p.ctype.scalar, address))
        else:
            assert isinstance(value, int | float)
            args.append(ArgValue(p.ctype.scalar, encode_scalar(p.ctype, value)))
    returns = (
        None if plan.prototype.returns.kind is TypeKind.VOID else plan.prototype.returns.scalar
    )
    pointer = plan.prototype.returns.kind is TypeKind.POINTER
    return CallSetup(tuple(args), returns, tuple(buffers), returns_pointer=pointer)


def _buffer_bytes(p: ParamPlan, value: Value) -> bytes:
    if p.role is Role.STRING:
        assert isinstance(value, str)
        return value.encode("latin-1") + b"\0"
    assert isinstance(value, list)
    return encode_buffer(element_type(p), value)


def render_value(value: object) -> object:
    """JSON-safe form: non-finite floats as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, list):
        return [render_value(v) for v in value]
    return value
