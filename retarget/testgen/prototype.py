"""C prototypes, parsed with tree-sitter's C grammar."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import tree_sitter
import tree_sitter_c

from retarget.errors import PrototypeError
from retarget.testgen.ctype import CType, TypeKind, named_type, pointer_to


@dataclass(frozen=True)
class Param:
    name: str
    ctype: CType


@dataclass(frozen=True)
class Prototype:
    name: str
    returns: CType
    params: tuple[Param, ...]

    def render(self) -> str:
        params = ", ".join(f"{p.ctype.render()} {p.name}".replace("* ", "*") for p in self.params)
        return f"{self.returns.render()} {self.name}({params or 'void'})"


@cache
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))


def parse_prototype(text: str) -> Prototype:
    """Parse one prototype such as ``int f(const char *s, size_t n)`` (``;`` optional)."""
    source = text.strip()
    if not source.endswith((";", "}")):
        source += ";"
    found = _prototypes(source.encode())
    if len(found) != 1:
        raise PrototypeError(f"expected one function prototype, found {len(found)}: {text!r}")
    return found[0]


def prototypes_in_c(source: str) -> dict[str, Prototype]:
    """Prototypes of every function declared or defined in a C source text."""
    return {p.name: p for p in _prototypes(source.encode(), tolerate_errors=True)}


def exported_functions(source: str) -> dict[str, Prototype]:
    """Prototypes of the functions a C file *defines* with external linkage (not ``static``)."""
    tree = _parser().parse(source.encode())
    names: set[str] = set()
    for node in tree.root_node.children:
        if node.type != "function_definition" or any(
            c.type == "storage_class_specifier" and _text(c) == "static" for c in node.children
        ):
            continue
        declarator = node.child_by_field_name("declarator")
        func = _function_declarator(declarator) if declarator is not None else None
        name = func.child_by_field_name("declarator") if func is not None else None
        if name is not None:
            names.add(_text(name))
    return {n: p for n, p in prototypes_in_c(source).items() if n in names}


def _prototypes(data: bytes, tolerate_errors: bool = False) -> list[Prototype]:
    tree = _parser().parse(data)
    root = tree.root_node
    if root.has_error and not tolerate_errors:
        bad = _first_error(root)
        col = bad.start_point[1] + 1 if bad else 0
        shown = data.decode().strip().removesuffix(";")
        raise PrototypeError(f"prototype does not parse (column {col}): {shown!r}")
    out: list[Prototype] = []
    for node in _top_level(root):
        if node.type not in ("declaration", "function_definition"):
            continue
        declarator = node.child_by_field_name("declarator")
        if declarator is None or _function_declarator(declarator) is None:
            continue
        try:
            out.append(_prototype(node, declarator))
        except PrototypeError:
            if not tolerate_errors:
                raise
    return out


def _top_level(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    """File-scope nodes, including those inside #if/#ifdef blocks."""
    out: list[tree_sitter.Node] = []
    for node in root.children:
        if node.type.startswith("preproc_if") or node.type in ("preproc_else", "preproc_elif"):
            out += _top_level(node)
        else:
            out.append(node)
    return out


def _first_error(node: tree_sitter.Node) -> tree_sitter.Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        found = _first_error(child)
        if found is not None:
            return found
    return None


def _function_declarator(node: tree_sitter.Node) -> tree_sitter.Node | None:
    while node.type in ("pointer_declarator", "parenthesized_declarator"):
        inner = node.child_by_field_name("declarator")
        if inner is None:
            return None
        node = inner
    return node if node.type == "function_declarator" else None


def _text(node: tree_sitter.Node) -> str:
    return node.text.decode() if node.text else ""


def _base_type(node: tree_sitter.Node) -> tuple[CType, bool]:
    """The specifier type of a declaration or parameter, and whether it is const."""
    type_node = node.child_by_field_name("type")
    if type_node is None:
        raise PrototypeError(f"missing type in {_text(node)!r}")
    const = any(c.type == "type_qualifier" and _text(c) == "const" for c in node.children)
    if type_node.type in ("struct_specifier", "union_specifier", "enum_specifier"):
        raise PrototypeError(f"unsupported type {_text(type_node)!r}")
    words = _text(type_node).split()
    return named_type(words), const


def _apply_declarator(
    base: CType, const: bool, node: tree_sitter.Node | None
) -> tuple[CType, str | None]:
    """Walk pointer/array declarators down to the name."""
    ctype = base
    while node is not None and node.type in (
        "pointer_declarator", "abstract_pointer_declarator",
        "array_declarator", "abstract_array_declarator", "parenthesized_declarator",
    ):  # fmt: skip
        if node.type != "parenthesized_declarator":
            ctype = pointer_to(ctype, const and ctype is base)
        node = node.child_by_field_name("declarator")
    if node is None:
        return ctype, None
    if node.type == "function_declarator":
        raise PrototypeError("function pointer parameters are not supported")
    return ctype, _text(node)


def _prototype(decl: tree_sitter.Node, declarator: tree_sitter.Node) -> Prototype:
    base, const = _base_type(decl)
    func = _function_declarator(declarator)
    assert func is not None
    returns = base
    node = declarator
    while node.id != func.id:
        if node.type == "pointer_declarator":
            returns = pointer_to(returns, const and returns is base)
        child = node.child_by_field_name("declarator")
        assert child is not None
        node = child
    name_node = func.child_by_field_name("declarator")
    name = _text(name_node) if name_node is not None else ""
    params = _params(func)
    return Prototype(name, returns, tuple(params))


def _params(func: tree_sitter.Node) -> list[Param]:
    plist = func.child_by_field_name("parameters")
    out: list[Param] = []
    if plist is None:
        return out
    for i, child in enumerate(c for c in plist.named_children if c.type != "comment"):
        if child.type == "variadic_parameter":
            raise PrototypeError("variadic functions are not supported")
        base, const = _base_type(child)
        ctype, name = _apply_declarator(base, const, child.child_by_field_name("declarator"))
        if ctype.kind is TypeKind.VOID:
            continue
        out.append(Param(name or f"arg{i}", ctype))
    return out
