"""Kernel tasks in KernelBench's format, and candidate sources.

A task is a Python module defining ``class Model(nn.Module)``, ``get_inputs()`` and
``get_init_inputs()``; a candidate defines ``class ModelNew`` with the same constructor
arguments. Loading only reads and parses: nothing of either file runs in this process.
"""

from __future__ import annotations

import ast
from pathlib import Path

from pydantic import BaseModel

from retarget.errors import SourceError

TASK_NAMES = ("Model", "get_inputs", "get_init_inputs")


class KernelTask(BaseModel):
    """One reference operator."""

    name: str
    path: Path
    source: str


def parse_python(path: Path, text: str | None = None) -> ast.Module:
    """The module's AST; a syntax error is a :class:`SourceError` naming the file and line."""
    if text is None:
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"cannot read: {exc}", str(path)) from exc
    try:
        return ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise SourceError(f"syntax error: {exc.msg}", str(path), exc.lineno) from exc


def defined_names(module: ast.Module) -> set[str]:
    """Classes and functions defined at the module's top level."""
    kinds = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {node.name for node in module.body if isinstance(node, kinds)}


def load_task(path: Path) -> KernelTask:
    text = _read(path)
    missing = [name for name in TASK_NAMES if name not in defined_names(parse_python(path, text))]
    if missing:
        raise SourceError(
            "not a KernelBench task: it does not define " + ", ".join(missing), str(path)
        )
    return KernelTask(name=path.stem, path=path, source=text)


def load_tasks(path: Path) -> list[KernelTask]:
    """One task file, or every ``*.py`` task in a directory (sorted by name)."""
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        if not files:
            raise SourceError("no task files (*.py) in the directory", str(path))
        return [load_task(p) for p in files]
    return [load_task(path)]


def load_candidate(path: Path) -> str:
    """The candidate's text. Whether it is a valid candidate is the static check's verdict
    (a rejection with the reason), not an input error."""
    return _read(path)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read: {exc}", str(path)) from exc
