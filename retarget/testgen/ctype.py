"""C types as far as input generation and the ABI need them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from retarget.errors import PrototypeError
from retarget.isa.abi import Scalar, ValueKind


class TypeKind(StrEnum):
    VOID = "void"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    POINTER = "pointer"


@dataclass(frozen=True)
class CType:
    kind: TypeKind
    bits: int = 0
    signed: bool = True
    pointee: CType | None = None
    const_pointee: bool = False
    spelling: str = ""
    is_char: bool = False

    @property
    def size(self) -> int:
        return self.bits // 8

    @property
    def scalar(self) -> Scalar:
        """How the value travels through a call."""
        if self.kind is TypeKind.FLOAT:
            return Scalar(ValueKind.FP, self.bits)
        if self.kind is TypeKind.POINTER:
            return Scalar(ValueKind.INT, 64, signed=False)
        if self.kind is TypeKind.VOID:
            raise PrototypeError("void has no value")
        return Scalar(ValueKind.INT, self.bits, self.signed)

    def render(self) -> str:
        if self.kind is TypeKind.POINTER and self.pointee is not None:
            const = "const " if self.const_pointee else ""
            return f"{const}{self.pointee.render()} *"
        return self.spelling


def _int(bits: int, signed: bool, spelling: str, is_char: bool = False) -> CType:
    return CType(TypeKind.INT, bits, signed, spelling=spelling, is_char=is_char)


# Spellings after removing ``signed``/``int`` noise; LP64 widths.
_NAMED: dict[str, CType] = {
    "void": CType(TypeKind.VOID, spelling="void"),
    "_Bool": CType(TypeKind.BOOL, 8, False, spelling="_Bool"),
    "bool": CType(TypeKind.BOOL, 8, False, spelling="bool"),
    "char": _int(8, True, "char", is_char=True),
    "signed char": _int(8, True, "signed char"),
    "unsigned char": _int(8, False, "unsigned char"),
    "short": _int(16, True, "short"),
    "unsigned short": _int(16, False, "unsigned short"),
    "int": _int(32, True, "int"),
    "unsigned": _int(32, False, "unsigned int"),
    "long": _int(64, True, "long"),
    "unsigned long": _int(64, False, "unsigned long"),
    "long long": _int(64, True, "long long"),
    "unsigned long long": _int(64, False, "unsigned long long"),
    "__int128": _int(128, True, "__int128"),
    "unsigned __int128": _int(128, False, "unsigned __int128"),
    "__uint128_t": _int(128, False, "__uint128_t"),
    "__int128_t": _int(128, True, "__int128_t"),
    "float": CType(TypeKind.FLOAT, 32, spelling="float"),
    "double": CType(TypeKind.FLOAT, 64, spelling="double"),
    "int8_t": _int(8, True, "int8_t"),
    "uint8_t": _int(8, False, "uint8_t"),
    "int16_t": _int(16, True, "int16_t"),
    "uint16_t": _int(16, False, "uint16_t"),
    "int32_t": _int(32, True, "int32_t"),
    "uint32_t": _int(32, False, "uint32_t"),
    "int64_t": _int(64, True, "int64_t"),
    "uint64_t": _int(64, False, "uint64_t"),
    "size_t": _int(64, False, "size_t"),
    "ssize_t": _int(64, True, "ssize_t"),
    "ptrdiff_t": _int(64, True, "ptrdiff_t"),
    "intptr_t": _int(64, True, "intptr_t"),
    "uintptr_t": _int(64, False, "uintptr_t"),
}

_UNSUPPORTED = {
    "long double": "long double differs by ISA (x87 80-bit on x86-64, IEEE quad elsewhere)",
}


def named_type(words: list[str]) -> CType:
    """The type spelled by specifier words such as ``["unsigned", "long", "int"]``."""
    text = " ".join(words)
    if text in _UNSUPPORTED:
        raise PrototypeError(f"unsupported type {text!r}: {_UNSUPPORTED[text]}")
    key = [w for w in words if w not in ("signed", "int")] if len(words) > 1 else words
    if "signed" in words and words != ["signed"] and key == ["char"]:
        key = ["signed", "char"]
    if words in (["signed"], ["signed", "int"]):
        key = ["int"]
    if words == ["unsigned", "int"]:
        key = ["unsigned"]
    if key and key[0] == "long" and key[-1] == "unsigned":
        key = ["unsigned", *key[:-1]]
    spelled = " ".join(key) or "int"
    found = _NAMED.get(spelled)
    if found is None:
        raise PrototypeError(
            f"unknown or unsupported type {text!r} (structs, unions, enums and typedefs other "
            "than the standard integer types need a pointer and a --sizes hint)"
        )
    return found


def pointer_to(pointee: CType, const: bool) -> CType:
    if pointee.kind is TypeKind.POINTER:
        raise PrototypeError(f"unsupported parameter type {pointee.render()}* (pointer to pointer)")
    return CType(TypeKind.POINTER, 64, False, pointee=pointee, const_pointee=const,
                 spelling=f"{pointee.spelling} *")  # fmt: skip
