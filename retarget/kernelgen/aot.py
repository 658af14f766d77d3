"""Ahead-of-time compilation of a candidate's Triton kernels for a GPU that is not here.

The harness records each kernel's argument types at its first launch (in the interpreter);
this step, in its own sandboxed process *without* ``TRITON_INTERPRET`` (the interpreter patches
``triton.language`` and breaks the real compiler in the same process), imports the candidate
and compiles every launched kernel for sm_90, so errors the interpreter forgives (wrong
shapes for ``tl.dot``, unsupported ops, non-power-of-two blocks) are caught without a GPU.

``python -m retarget.kernelgen.aot CANDIDATE.py`` reads ``{kernel: {arg: [type, value]}}``
on stdin and prints ``{kernel: "ok: ..." | "error: ..."}``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

TARGET = ("cuda", 90, 32)


def compile_all(path: str, kernels: dict[str, dict[str, list[Any]]]) -> dict[str, str]:
    from triton import compile as triton_compile
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    spec = importlib.util.spec_from_file_location("candidate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report: dict[str, str] = {}
    for name, args in kernels.items():
        kernel = getattr(module, name, None)
        if kernel is None:
            report[name] = "error: not a top-level kernel of the candidate"
            continue
        signature = {k: v[0] for k, v in args.items()}
        constexprs = {k: v[1] for k, v in args.items() if v[0] == "constexpr"}
        try:
            built = triton_compile(ASTSource(fn=kernel, signature=signature,
                                             constexprs=constexprs),
                                   target=GPUTarget(*TARGET))  # fmt: skip
        except Exception as exc:  # the compiler's message is the finding
            report[name] = f"error: {type(exc).__name__}: {str(exc)[:1500]}"
            continue
        meta = built.metadata
        report[name] = f"ok: sm_90, {meta.num_warps} warps, {meta.shared} B shared memory"
    return report


def main() -> None:
    kernels = json.loads(sys.stdin.read())
    print(json.dumps(compile_all(sys.argv[1], kernels)))


if __name__ == "__main__":
    main()
