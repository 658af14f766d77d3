"""Static checks on a candidate's source, before anything of it runs.

A candidate passes when ``ModelNew`` is a plain ``nn.Module`` whose ``forward`` reaches at least
one real kernel of the chosen backend, and nothing in the file can compute the answer another
way or tamper with the grader:

- no torch/aten compute outside ``__init__`` (allocation such as ``torch.empty`` is fine;
  parameters may be read, submodules may not be called; ``@`` is compute too), and none in
  C++/CUDA sources either (``at::``/``torch::`` calls other than allocation and accessors);
- no ``try`` (a fallback to the reference), no base class other than ``nn.Module``;
- no frame, ``inspect``, ``gc``, dunder or pointer access; no ``eval``/``exec``/``open``/
  ``getattr``/``id``/``exit``; no imports beyond torch, triton, math and the kernel loaders;
  no assignment to anything but ``self.<name>`` and locals (no monkey-patching torch, time or
  builtins); no threads, processes, streams, files, sockets or numpy.

The dynamic checks in the harness catch what a static reading cannot (Python arithmetic on
tensors, aten called from C++ through a macro): this pass is the first line, not the only one.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

from retarget.kernelgen.native import ExtensionSpec, spec_from_call

BackendName = Literal["cpp", "triton", "cuda"]

ALLOWED_IMPORTS = {
    "torch", "torch.nn", "torch.nn.functional", "torch.utils.cpp_extension", "triton",
    "triton.language", "math", "typing", "retarget.kernelgen.native",
}  # fmt: skip
LOADERS = {"load_inline", "load_cpp"}
ALLOCATION = {"empty", "empty_like", "empty_strided", "zeros", "zeros_like"}
BANNED_NAMES = {
    "eval", "exec", "compile", "open", "__import__", "globals", "locals", "vars", "getattr",
    "setattr", "delattr", "input", "exit", "quit", "breakpoint", "help", "id", "type",
    "memoryview", "classmethod", "staticmethod", "property",
}  # fmt: skip
BANNED_ATTRIBUTES = {
    "f_back", "f_locals", "f_globals", "f_code", "_getframe", "gi_frame", "cr_frame", "tb_frame",
    "data_ptr", "untyped_storage", "storage", "_cdata", "numpy", "tolist", "Stream", "stream",
    "set_stream", "ExternalStream", "forward", "register_forward_hook",
    "register_forward_pre_hook", "apply", "compile", "jit",
}  # fmt: skip
VIEW_METHODS = {
    "contiguous", "view", "reshape", "size", "numel", "stride", "dim", "is_contiguous", "flatten",
    "permute", "transpose", "t", "unsqueeze", "squeeze", "expand", "expand_as", "view_as",
    "reshape_as", "to", "float", "half", "double", "bfloat16", "long", "int", "new_empty",
    "new_zeros", "element_size", "get_device", "detach", "chunk", "split", "unbind", "narrow",
    "select", "item", "is_floating_point", "requires_grad_", "cuda", "cpu", "type_as",
    "parameters", "buffers", "append", "extend", "items", "keys", "values", "format", "join",
    "startswith", "endswith", "replace", "strip", "upper", "lower", "run", "cdiv",
    "next_power_of_2",
}  # fmt: skip
"""Tensor methods that only reshape, describe or allocate, and str/list helpers whose names
collide with tensor ops. ``math.<fn>`` calls are always allowed; ``.max()`` on anything else is
compute."""
CPP_ALLOWED = {
    "Tensor", "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "TensorOptions",
    "kFloat", "kFloat32", "kHalf", "kBFloat16", "kDouble", "kInt", "kLong", "kInt64", "kInt32",
    "kByte", "kBool", "kCUDA", "kCPU", "ScalarType", "Half", "BFloat16", "IntArrayRef", "Device",
    "DeviceType", "dtype", "device", "Scalar", "checkCUDA", "cuda", "getCurrentCUDAStream",
    "OptionalCUDAGuard", "CUDAGuard", "OptionalDeviceGuard", "DeviceGuard", "MemoryFormat",
    "Layout", "kStrided", "TORCH_CHECK", "nullopt", "optional", "get_num_threads",
    "set_num_threads", "parallel_for", "in_parallel_region", "get_thread_num", "Generator",
}  # fmt: skip


class StaticReport(BaseModel):
    """The verdict of the static pass; ``line`` is 1-based in the candidate."""

    ok: bool
    reason: str = ""
    line: int | None = None
    kernels: list[str] = []
    """The kernel entry points ``forward`` reaches (``module.fn`` or a Triton kernel name)."""
    sources: list[str] = []
    """The C++/CUDA source strings handed to a loader, as written."""
    extensions: list[ExtensionSpec] = []
    """Every loader call, to be built before the candidate runs."""


class Rejected(Exception):
    def __init__(self, reason: str, node: ast.AST | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = getattr(node, "lineno", None)


@cache
def _compute_names() -> frozenset[str]:
    """Every public function and tensor method name in torch that can compute something."""
    import torch
    from torch.nn import functional

    names = {n for n in dir(torch.Tensor) if not n.startswith("_")}
    names |= {n for n in dir(torch) if not n.startswith("_") and callable(getattr(torch, n))}
    names |= {n for n in dir(functional) if not n.startswith("_")}
    return frozenset(names - VIEW_METHODS - ALLOCATION)


@dataclass
class _Scope:
    name: str
    in_init: bool = False
    jit: bool = False


@dataclass
class _Module:
    handles: set[str] = field(default_factory=set)
    """Names bound to loaded extension modules (top-level ``mod`` or ``self.mod``)."""
    jit: set[str] = field(default_factory=set)
    submodules: set[str] = field(default_factory=set)
    functions: dict[str, ast.FunctionDef] = field(default_factory=dict)
    methods: dict[str, ast.FunctionDef] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    cuda: bool = False
    extensions: list[ExtensionSpec] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)
    """Top-level string constants, so sources bound to a name can be read."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Local import names to module paths (``F`` → ``torch.nn.functional``)."""


def check_source(source: str, backend: BackendName, filename: str = "candidate.py") -> StaticReport:
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return StaticReport(ok=False, reason=f"syntax error: {exc.msg}", line=exc.lineno)
    try:
        info = _Module()
        _top_level(tree, info)
        model = _model_new(tree)
        _class_body(model, info)
        for fn in [*info.functions.values(), *info.methods.values()]:
            _Checker(info, _Scope(fn.name, in_init=fn.name == "__init__",
                                  jit=fn.name in info.jit)).visit_body(fn)  # fmt: skip
        for text in info.sources:
            _check_native_source(text, tree)
        kernels = _reached_kernels(info)
        _backend_rules(backend, info, kernels, model)
    except Rejected as exc:
        return StaticReport(ok=False, reason=exc.reason, line=exc.line)
    return StaticReport(ok=True, kernels=sorted(kernels), sources=info.sources,
                        extensions=info.extensions)  # fmt: skip


def _top_level(tree: ast.Module, info: _Module) -> None:
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            _check_import(node, info)
        elif isinstance(node, ast.FunctionDef):
            if _is_jit(node):
                info.jit.add(node.name)
            info.functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            continue
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            _top_assign(node, info)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        else:
            raise Rejected(f"top-level {type(node).__name__} statement: only imports, "
                           "constants, kernel sources, loaders and definitions", node)  # fmt: skip


def _check_import(node: ast.Import | ast.ImportFrom, info: _Module) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in ALLOWED_IMPORTS:
                raise Rejected(f"import of {alias.name} is not allowed", node)
            info.aliases[alias.asname or alias.name.split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0]
            )
        return
    module = node.module or ""
    if node.level or module not in ALLOWED_IMPORTS:
        raise Rejected(f"import from {module or '.'} is not allowed", node)
    for alias in node.names:
        full = f"{module}.{alias.name}"
        if full not in ALLOWED_IMPORTS and alias.name not in LOADERS | {"jit"}:
            if module in ("torch", "torch.nn", "triton") and alias.name[:1].isupper():
                info.aliases[alias.asname or alias.name] = full  # classes: nn.Module, tl types
                continue
            if module in {"typing", "math"}:
                continue
            raise Rejected(f"import of {full} is not allowed", node)
        info.aliases[alias.asname or alias.name] = full


def _top_assign(node: ast.Assign | ast.AnnAssign, info: _Module) -> None:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    value = node.value
    if value is None or not all(isinstance(t, ast.Name) for t in targets):
        raise Rejected("top-level assignments must bind plain names", node)
    if _is_loader_call(value, info):
        info.handles |= {t.id for t in targets if isinstance(t, ast.Name)}
        _collect_sources(value, info)
        return
    if not _is_constant(value):
        raise Rejected("top-level values must be constants (no state shared between calls)", node)
    text = _const_str(value, info)
    if text is not None:
        info.constants.update({t.id: text for t in targets if isinstance(t, ast.Name)})


def _const_str(node: ast.expr, info: _Module) -> str | None:
    """The value of a string built from literals and earlier string constants."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return info.constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _const_str(node.left, info), _const_str(node.right, info)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            inner = value.value if isinstance(value, ast.FormattedValue) else value
            text = _const_str(inner, info)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    return None


def _is_constant(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Tuple):
        return all(_is_constant(e) for e in node.elts)
    if isinstance(node, ast.BinOp):  # "..." + "..." or 32 * 1024
        return _is_constant(node.left) and _is_constant(node.right)
    if isinstance(node, ast.JoinedStr):
        return all(
            isinstance(v, ast.Constant)
            or (isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name))
            for v in node.values
        )
    return isinstance(node, ast.Name)  # another constant's name


def _is_loader_call(node: ast.expr, info: _Module) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = _dotted(node.func)
    return name is not None and name.split(".")[-1] in LOADERS


def _collect_sources(call: ast.expr, info: _Module) -> None:
    assert isinstance(call, ast.Call)
    loader = (_dotted(call.func) or "").split(".")[-1]
    args = [_literal(a, info) for a in call.args]
    kwargs = {k.arg: _literal(k.value, info) for k in call.keywords if k.arg}
    try:
        info.extensions.append(spec_from_call(loader, args, kwargs))
    except ValueError as exc:
        raise Rejected(str(exc), call) from exc
    given = dict(zip(("name", "cpp_sources", "cuda_sources"), call.args, strict=False))
    given.update({k.arg: k.value for k in call.keywords if k.arg})
    for key in ("cpp_sources", "cuda_sources"):
        if key in given and not _is_none(given[key]):
            info.cuda |= key == "cuda_sources"
            info.sources += _strings(given[key], info)


def _strings(node: ast.expr, info: _Module) -> list[str]:
    if isinstance(node, ast.List | ast.Tuple):
        return [s for e in node.elts for s in _strings(e, info)]
    text = _const_str(node, info)
    if text is None:
        raise Rejected("kernel sources must be string literals or constants (so they can be "
                       "checked before they are compiled)", node)  # fmt: skip
    return [text]


def _literal(node: ast.expr, info: _Module) -> Any:
    text = _const_str(node, info)
    if text is not None:
        return text
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e, info) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k, info): _literal(v, info) for k, v in zip(node.keys, node.values,
                                                                     strict=True) if k}  # fmt: skip
    if isinstance(node, ast.Constant):
        return node.value
    raise Rejected("loader arguments must be literals or constants (the extension is built "
                   "before the candidate runs)", node)  # fmt: skip


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _model_new(tree: ast.Module) -> ast.ClassDef:
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    for cls in classes:
        for base in cls.bases:
            if _dotted(base) not in ("nn.Module", "torch.nn.Module", "Module"):
                raise Rejected(f"class {cls.name} may only inherit nn.Module", cls)
        if cls.keywords or cls.decorator_list:
            raise Rejected(f"class {cls.name}: no metaclass or decorators", cls)
    model = next((c for c in classes if c.name == "ModelNew"), None)
    if model is None:
        raise Rejected("the candidate does not define class ModelNew")
    if len(classes) > 1:
        extra = next(c for c in classes if c.name != "ModelNew")
        raise Rejected(f"only ModelNew may be defined as a class (found {extra.name})", extra)
    return model


def _class_body(cls: ast.ClassDef, info: _Module) -> None:
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            if node.decorator_list:
                raise Rejected(f"method {node.name}: no decorators", node)
            info.methods[node.name] = node
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            raise Rejected("class body may hold only methods (no class-level state)", node)
    if "forward" not in info.methods:
        raise Rejected("ModelNew has no forward method", cls)
    init = info.methods.get("__init__")
    for item in ast.walk(init) if init else ():
        if isinstance(item, ast.Assign) and len(item.targets) == 1:
            node, target = item, item.targets[0]
            if isinstance(target, ast.Attribute) and _is_self(target.value):
                if _is_loader_call(node.value, info):
                    info.handles.add(target.attr)
                    _collect_sources(node.value, info)
                elif _constructs_module(node.value):
                    info.submodules.add(target.attr)


def _constructs_module(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = _dotted(node.func) or ""
    return name.startswith(("nn.", "torch.nn.")) and name.split(".")[-1] != "Parameter"


class _Checker(ast.NodeVisitor):
    def __init__(self, info: _Module, scope: _Scope) -> None:
        self.info = info
        self.scope = scope

    def visit_body(self, fn: ast.FunctionDef) -> None:
        if _is_jit(fn) and fn.name not in self.info.functions:
            raise Rejected("@triton.jit kernels belong at the top level", fn)
        for stmt in fn.body:
            self.visit(stmt)

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Try | ast.TryStar):
            raise Rejected("try/except is not allowed (a fallback hides a failing kernel)", node)
        if isinstance(node, ast.Global | ast.Nonlocal):
            raise Rejected("global/nonlocal state is not allowed", node)
        if isinstance(node, ast.AsyncFunctionDef | ast.Await | ast.Yield | ast.YieldFrom):
            raise Rejected("async code and generators are not allowed", node)
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            raise Rejected("nested functions and classes are not allowed", node)
        super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in BANNED_NAMES or node.id.startswith("__"):
            raise Rejected(f"use of {node.id} is not allowed", node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("__") and not (
            node.attr == "__init__" and _is_super_call(node.value)
        ):
            raise Rejected(f"access to {node.attr} is not allowed", node)
        if node.attr in BANNED_ATTRIBUTES:
            raise Rejected(f"access to .{node.attr} is not allowed", node)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._target(target)
        self.visit(node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._target(node.target)
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._target(node.target)
        if node.value is not None:
            self.visit(node.value)

    def visit_Delete(self, node: ast.Delete) -> None:
        raise Rejected("del is not allowed", node)

    def _target(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            return
        if isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._target(element)
            return
        if isinstance(target, ast.Attribute) and _is_self(target.value):
            if not self.scope.in_init:
                raise Rejected("self.<name> may be set only in __init__ (no state kept "
                               "between calls)", target)  # fmt: skip
            return
        if isinstance(target, ast.Subscript) and self.scope.jit:
            return
        raise Rejected("assignment to an attribute or item of another object "
                       "(monkey-patching) is not allowed", target)  # fmt: skip

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.MatMult) and not self.scope.jit:
            raise Rejected("the @ operator is torch compute", node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)  # banned names and attributes first: the more exact reason
        if not self.scope.in_init and not self.scope.jit:
            self._compute_call(node)

    def visit_Import(self, node: ast.Import) -> None:
        self._import(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._import(node)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        _check_import(node, _Module())
        raise Rejected("imports belong at the top of the module", node)

    def _compute_call(self, node: ast.Call) -> None:
        name = _dotted(node.func) or ""
        parts = name.split(".")
        root = self.info.aliases.get(parts[0], parts[0]) if parts[0] else ""
        full = ".".join([root, *parts[1:]]) if name else ""
        if full.startswith(("torch.", "torch.nn.functional.")) and parts[-1] not in ALLOCATION:
            if not _allowed_torch_attribute(full):
                raise Rejected(f"torch compute in {self.scope.name}: {name}()", node)
        if isinstance(node.func, ast.Attribute):
            owner = node.func.value
            method = node.func.attr
            if _is_self(owner) and method in self.info.submodules:
                raise Rejected(f"calling the submodule self.{method} is torch compute", node)
            if self._is_handle(owner) or (
                isinstance(owner, ast.Name) and self.info.aliases.get(owner.id, "") == "math"
            ):
                return
            if method in _compute_names() and not _is_self(owner):
                raise Rejected(f"torch compute in {self.scope.name}: .{method}()", node)

    def _is_handle(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.info.handles
        return (
            isinstance(node, ast.Attribute)
            and _is_self(node.value)
            and (node.attr in self.info.handles)
        )


def _allowed_torch_attribute(full: str) -> bool:
    allowed = ("torch.device", "torch.dtype", "torch.Size", "torch.no_grad",
               "torch.inference_mode", "torch.cuda.synchronize", "torch.cuda.is_available")  # fmt: skip
    return full in allowed


def _reached_kernels(info: _Module) -> set[str]:
    """Kernel entry points called from ``forward``, following calls to the class's own
    methods and the module's plain functions."""
    seen: set[str] = set()
    kernels: set[str] = set()
    pending = [info.methods["forward"]]
    while pending:
        fn = pending.pop()
        if fn.name in seen:
            continue
        seen.add(fn.name)
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name):
                if func.value.id in info.jit:
                    kernels.add(func.value.id)
            elif isinstance(func, ast.Attribute):
                owner = func.value
                handle = owner.id if isinstance(owner, ast.Name) else (
                    owner.attr if isinstance(owner, ast.Attribute) and _is_self(owner.value)
                    else None)  # fmt: skip
                if handle in info.handles:
                    kernels.add(f"{handle}.{func.attr}")
                elif _is_self(owner) and func.attr in info.methods:
                    pending.append(info.methods[func.attr])
            elif isinstance(func, ast.Name) and func.id in info.functions:
                if func.id not in info.jit:
                    pending.append(info.functions[func.id])
    return kernels


def _backend_rules(
    backend: BackendName, info: _Module, kernels: set[str], model: ast.ClassDef
) -> None:
    launched = {k for k in kernels if k in info.jit}
    loaded = kernels - launched
    if backend == "triton" and not launched:
        raise Rejected("forward reaches no @triton.jit kernel", info.methods["forward"])
    if backend in ("cpp", "cuda") and not loaded:
        raise Rejected("forward reaches no function of a compiled extension "
                       "(load_inline / load_cpp)", info.methods["forward"])  # fmt: skip
    if backend == "cuda" and not info.cuda:
        raise Rejected("the cuda backend needs load_inline(cuda_sources=...)", model)
    if backend == "cpp" and info.cuda:
        raise Rejected("CUDA sources given to the cpp backend", model)


_CPP_CALL = re.compile(r"\b(?:at|torch|c10|aten)::((?:\w+::)*)(\w+)\s*[(<{]")
_CPP_METHOD = re.compile(r"\.\s*(\w+)\s*\(")
_CPP_INCLUDE = re.compile(r"#\s*include\s*[<\"]([^>\"]+)[>\"]")
CPP_ALLOWED_METHODS = {
    "data_ptr", "size", "sizes", "stride", "strides", "numel", "dim", "is_contiguous",
    "options", "dtype", "device", "scalar_type", "is_cuda", "contiguous", "view", "reshape",
    "mutable_data_ptr", "const_data_ptr", "element_size", "defined", "get_device", "item",
    "itemsize", "nbytes", "value", "push_back", "emplace_back", "begin", "end", "data", "at",
    "resize", "reserve", "insert", "c_str", "str", "empty", "clear", "front", "back", "stream",
    "is_floating_point", "squeeze", "unsqueeze", "permute", "transpose", "flatten", "expand",
    "to_string", "template",
}  # fmt: skip


_CPP_BANNED_HEADERS = {
    "fstream", "thread", "pthread.h", "unistd.h", "sys/socket.h", "netinet/in.h",
    "arpa/inet.h", "sys/mman.h", "dlfcn.h", "sys/syscall.h", "future", "csignal", "signal.h",
    "sys/stat.h", "fcntl.h", "filesystem", "spawn.h", "sys/wait.h", "execinfo.h",
}  # fmt: skip
_CPP_BANNED_CALL = re.compile(
    r"\b(fopen|freopen|open|socket|connect|bind|system|popen|fork|vfork|execv\w*|execl\w*|"
    r"dlopen|dlsym|exit|_exit|_Exit|quick_exit|abort|syscall|mmap|getenv|pthread_create|"
    r"clone|kill|raise|signal|remove|rename|unlink|sleep|usleep|nanosleep)\s*\("
)


def _check_native_source(text: str, tree: ast.Module) -> None:
    line = _line_of(text, tree)
    for match in _CPP_INCLUDE.finditer(text):
        header = match.group(1)
        if header.startswith(("/", "..")) or "ATen/native" in header or "ATen/ops" in header:
            raise _at(f"C++ source includes {header}", line)
        if header in _CPP_BANNED_HEADERS:
            raise _at(f"C++ source includes <{header}> (files, threads, processes, sockets "
                      "and signals are not allowed in a kernel)", line)  # fmt: skip
    banned = _CPP_BANNED_CALL.search(text)
    if banned:
        raise _at(f"C++ source calls {banned.group(1)}() (system calls are not allowed in a "
                  "kernel)", line)  # fmt: skip
    for match in _CPP_CALL.finditer(text):
        name = match.group(2)
        if name not in CPP_ALLOWED:
            raise _at(f"C++ source calls {match.group(0).rstrip('(<{ ')} (aten compute)", line)
    compute = _compute_names()
    for match in _CPP_METHOD.finditer(text):
        name = match.group(1)
        if name in compute and name not in CPP_ALLOWED_METHODS:
            raise _at(f"C++ source calls the tensor method .{name}() (aten compute)", line)


def _line_of(text: str, tree: ast.Module) -> int | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value == text:
            return node.lineno
    return None


def _at(reason: str, line: int | None) -> Rejected:
    error = Rejected(reason)
    error.line = line
    return error


def _is_jit(fn: ast.FunctionDef) -> bool:
    return any((_dotted(d.func if isinstance(d, ast.Call) else d) or "").endswith("jit")
               for d in fn.decorator_list)  # fmt: skip


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _is_super_call(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (node.func.id == "super")
    )


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None
