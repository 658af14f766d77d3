"""Python models of the libc subset and compiler helpers a function may call.

Each model declares its C signature as ABI scalars, so the emulator reads arguments and writes
the result through the calling-convention tables like any other call. Both sides of a
comparison run the same model against the same deterministic heap, so equal behaviour yields
equal traces and equal heap addresses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from retarget.isa.abi import Scalar, ValueKind

PTR = Scalar(ValueKind.INT, 64, signed=False)
SIZE = Scalar(ValueKind.INT, 64, signed=False)
INT = Scalar(ValueKind.INT, 32)
UINT = Scalar(ValueKind.INT, 32, signed=False)
LONG = Scalar(ValueKind.INT, 64)
ULONG = Scalar(ValueKind.INT, 64, signed=False)
I128 = Scalar(ValueKind.INT, 128)
U128 = Scalar(ValueKind.INT, 128, signed=False)
DOUBLE = Scalar(ValueKind.FP, 64)
FLOAT = Scalar(ValueKind.FP, 32)

Value = int | float


class ModelFault(Exception):
    """A model touched memory the process may not touch (the real libc would crash)."""

    def __init__(self, address: int, access: str) -> None:
        super().__init__(f"{access} of unmapped {address:#x}")
        self.address = address
        self.access = access


class ModelTrap(Exception):
    """The real routine would kill the process (abort, divide error)."""


class Memory(Protocol):
    def read(self, address: int, size: int) -> bytes: ...
    def write(self, address: int, data: bytes) -> None: ...
    def fill(self, address: int, byte: int, size: int) -> None:
        """``size`` copies of ``byte``; faults before anything is built when out of bounds."""

    def cstring(self, address: int) -> bytes: ...
    def malloc(self, size: int) -> int: ...
    def free(self, address: int) -> None: ...
    def block_size(self, address: int) -> int | None: ...


ModelFn = Callable[..., Value | None]


@dataclass(frozen=True)
class LibcModel:
    name: str
    params: tuple[Scalar, ...]
    returns: Scalar | None
    run: ModelFn
    observable: bool = False
    """The call itself matters to a caller (allocator, abort). Pure routines (memcpy, strlen,
    maths) are not compared as calls: compilers add and remove them freely (a loop becomes
    memset, strlen is inlined), and their effects on memory are compared anyway."""


MODELS: dict[str, LibcModel] = {}


def model(
    name: str, params: tuple[Scalar, ...], returns: Scalar | None, observable: bool = False
) -> Callable[[ModelFn], ModelFn]:
    def register(fn: ModelFn) -> ModelFn:
        MODELS[name] = LibcModel(name, params, returns, fn, observable)
        return fn

    return register


def _cmp(a: int, b: int) -> int:
    return (a > b) - (a < b)


# --- memory --------------------------------------------------------------------------------
@model("memcpy", (PTR, PTR, SIZE), PTR)
def _memcpy(mem: Memory, dst: int, src: int, n: int) -> int:
    mem.write(dst, mem.read(src, n))
    return dst


@model("memmove", (PTR, PTR, SIZE), PTR)
def _memmove(mem: Memory, dst: int, src: int, n: int) -> int:
    mem.write(dst, mem.read(src, n))
    return dst


@model("memset", (PTR, INT, SIZE), PTR)
def _memset(mem: Memory, dst: int, c: int, n: int) -> int:
    mem.fill(dst, c & 0xFF, n)
    return dst


@model("memcmp", (PTR, PTR, SIZE), INT)
def _memcmp(mem: Memory, a: int, b: int, n: int) -> int:
    x, y = mem.read(a, n), mem.read(b, n)
    for p, q in zip(x, y, strict=True):
        if p != q:
            return p - q
    return 0


@model("memchr", (PTR, INT, SIZE), PTR)
def _memchr(mem: Memory, s: int, c: int, n: int) -> int:
    idx = mem.read(s, n).find(bytes([c & 0xFF]))
    return 0 if idx < 0 else s + idx


# --- strings -------------------------------------------------------------------------------
@model("strlen", (PTR,), SIZE)
def _strlen(mem: Memory, s: int) -> int:
    return len(mem.cstring(s))


@model("strnlen", (PTR, SIZE), SIZE)
def _strnlen(mem: Memory, s: int, n: int) -> int:
    data = mem.read(s, n) if n < 4096 else mem.cstring(s)
    idx = data.find(b"\0")
    return min(n, idx if idx >= 0 else len(data))


def _strncmp_bytes(x: bytes, y: bytes, n: int | None) -> int:
    x, y = x + b"\0", y + b"\0"
    limit = min(len(x), len(y)) if n is None else min(n, len(x), len(y))
    for i in range(limit):
        if x[i] != y[i]:
            return x[i] - y[i]
        if x[i] == 0:
            return 0
    return 0


@model("strcmp", (PTR, PTR), INT)
def _strcmp(mem: Memory, a: int, b: int) -> int:
    return _strncmp_bytes(mem.cstring(a), mem.cstring(b), None)


@model("strncmp", (PTR, PTR, SIZE), INT)
def _strncmp(mem: Memory, a: int, b: int, n: int) -> int:
    return _strncmp_bytes(mem.cstring(a), mem.cstring(b), n)


@model("strcpy", (PTR, PTR), PTR)
def _strcpy(mem: Memory, dst: int, src: int) -> int:
    mem.write(dst, mem.cstring(src) + b"\0")
    return dst


@model("strncpy", (PTR, PTR, SIZE), PTR)
def _strncpy(mem: Memory, dst: int, src: int, n: int) -> int:
    data = mem.cstring(src)[:n]
    mem.fill(dst, 0, n)
    mem.write(dst, data)
    return dst


@model("strcat", (PTR, PTR), PTR)
def _strcat(mem: Memory, dst: int, src: int) -> int:
    mem.write(dst + len(mem.cstring(dst)), mem.cstring(src) + b"\0")
    return dst


@model("strchr", (PTR, INT), PTR)
def _strchr(mem: Memory, s: int, c: int) -> int:
    data = mem.cstring(s) + b"\0"
    idx = data.find(bytes([c & 0xFF]))
    return 0 if idx < 0 else s + idx


@model("strrchr", (PTR, INT), PTR)
def _strrchr(mem: Memory, s: int, c: int) -> int:
    data = mem.cstring(s) + b"\0"
    idx = data.rfind(bytes([c & 0xFF]))
    return 0 if idx < 0 else s + idx


# --- heap ----------------------------------------------------------------------------------
@model("malloc", (SIZE,), PTR, observable=True)
def _malloc(mem: Memory, n: int) -> int:
    return mem.malloc(n)


@model("calloc", (SIZE, SIZE), PTR, observable=True)
def _calloc(mem: Memory, count: int, size: int) -> int:
    total = count * size
    if total >= 1 << 63:
        return 0
    addr = mem.malloc(total)
    if addr:
        mem.fill(addr, 0, total)
    return addr


@model("realloc", (PTR, SIZE), PTR, observable=True)
def _realloc(mem: Memory, old: int, n: int) -> int:
    if old == 0:
        return mem.malloc(n)
    old_size = mem.block_size(old)
    if old_size is None:
        raise ModelTrap("realloc(): invalid pointer (SIGABRT)")
    new = mem.malloc(n)
    if new:
        mem.write(new, mem.read(old, min(old_size, n)))
        mem.free(old)
    return new


@model("free", (PTR,), None, observable=True)
def _free(mem: Memory, p: int) -> None:
    if p:
        mem.free(p)


@model("abort", (), None, observable=True)
def _abort(mem: Memory) -> None:
    raise ModelTrap("abort() (SIGABRT)")


@model("__stack_chk_fail", (), None, observable=True)
def _stack_chk_fail(mem: Memory) -> None:
    raise ModelTrap("stack smashing detected (SIGABRT)")


# --- integers ------------------------------------------------------------------------------
def _wrap(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


@model("abs", (INT,), INT)
def _abs(mem: Memory, x: int) -> int:
    return _wrap(abs(x), 32)


@model("labs", (LONG,), LONG)
def _labs(mem: Memory, x: int) -> int:
    return _wrap(abs(x), 64)


MODELS["llabs"] = LibcModel("llabs", (LONG,), LONG, _labs)


def _tdiv(a: int, b: int) -> int:
    if b == 0:
        raise ModelTrap("division by zero in a 128-bit helper (SIGFPE)")
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


@model("__divti3", (I128, I128), I128)
def _divti3(mem: Memory, a: int, b: int) -> int:
    return _wrap(_tdiv(a, b), 128)


@model("__modti3", (I128, I128), I128)
def _modti3(mem: Memory, a: int, b: int) -> int:
    return _wrap(a - _tdiv(a, b) * b, 128)


@model("__udivti3", (U128, U128), U128)
def _udivti3(mem: Memory, a: int, b: int) -> int:
    return _tdiv(a, b)


@model("__umodti3", (U128, U128), U128)
def _umodti3(mem: Memory, a: int, b: int) -> int:
    return a - _tdiv(a, b) * b


def _bit_helpers() -> None:
    for bits, suffix, arg in ((32, "si2", UINT), (64, "di2", ULONG)):
        mask = (1 << bits) - 1

        def popcount(mem: Memory, x: int, m: int = mask) -> int:
            return (x & m).bit_count()

        def clz(mem: Memory, x: int, b: int = bits) -> int:
            return b - x.bit_length()  # undefined for 0 in C; the value is what libgcc returns

        def ctz(mem: Memory, x: int, b: int = bits) -> int:
            return (x & -x).bit_length() - 1 if x else b

        def parity(mem: Memory, x: int, m: int = mask) -> int:
            return (x & m).bit_count() & 1

        def bswap(mem: Memory, x: int, b: int = bits) -> int:
            return int.from_bytes((x & ((1 << b) - 1)).to_bytes(b // 8, "little"), "big")

        for name, fn in (("popcount", popcount), ("clz", clz), ("ctz", ctz), ("parity", parity)):
            MODELS[f"__{name}{suffix}"] = LibcModel(f"__{name}{suffix}", (arg,), INT, fn)
        MODELS[f"__bswap{suffix}"] = LibcModel(f"__bswap{suffix}", (arg,), arg, bswap)


_bit_helpers()


# --- floating point ------------------------------------------------------------------------
def _float_model(name: str, kind: Scalar, fn: Callable[..., float], arity: int = 1) -> None:
    def run(mem: Memory, *args: float) -> float:
        try:
            return fn(*args)
        except (ValueError, OverflowError):
            return math.nan

    MODELS[name] = LibcModel(name, (kind,) * arity, kind, run)


def _sqrt(x: float) -> float:
    return math.nan if x < 0 else math.sqrt(x)


def _fmin(x: float, y: float) -> float:
    if math.isnan(x):
        return y
    if math.isnan(y):
        return x
    return x if (x < y or (x == y and math.copysign(1, x) < 0)) else y


def _fmax(x: float, y: float) -> float:
    if math.isnan(x):
        return y
    if math.isnan(y):
        return x
    return x if (x > y or (x == y and math.copysign(1, x) > 0)) else y


def _rounding(fn: Callable[[float], int]) -> Callable[[float], float]:
    def run(x: float) -> float:
        if math.isnan(x) or math.isinf(x):
            return x
        return math.copysign(float(fn(x)), x)

    return run


for _suffix, _kind in (("", DOUBLE), ("f", FLOAT)):
    _float_model(f"sqrt{_suffix}", _kind, _sqrt)
    _float_model(f"fabs{_suffix}", _kind, math.fabs)
    _float_model(f"floor{_suffix}", _kind, _rounding(math.floor))
    _float_model(f"ceil{_suffix}", _kind, _rounding(math.ceil))
    _float_model(f"trunc{_suffix}", _kind, _rounding(math.trunc))
    _float_model(f"fmin{_suffix}", _kind, _fmin, 2)
    _float_model(f"fmax{_suffix}", _kind, _fmax, 2)
