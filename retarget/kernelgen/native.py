"""Compiled kernels: building a candidate's C++/CUDA sources and loading the result.

Two ways to write a C++ kernel, both cached by a hash of everything that goes into the build:

- KernelBench's ``torch.utils.cpp_extension.load_inline(name, cpp_sources, functions=...)``
  (sources include ``<torch/extension.h>`` and take ``torch::Tensor``): built here with g++
  against torch's headers into a Python extension, the way ``load_inline`` does it;
- the faster ``retarget.kernelgen.native.load_cpp(name, cpp_sources, functions=...)``: plain
  C++ with ``extern "C"`` functions taking pointers and sizes, built without torch's headers
  (about 0.5 s instead of 30 s) and called through ctypes; tensor arguments pass their data
  pointer.

Building and running are separate steps. The evaluator builds every extension the static pass
found, in the sandbox with only the compiler running and the cache writable; the candidate then
runs with the cache read-only, and its loader calls only *load* what was built. So no candidate
code ever runs where it could rewrite a cached library.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

Kind = Literal["torch", "plain"]
BUILD_VERSION = "1"
_FLAG = re.compile(
    r"^-(O[0-3s]|Ofast|ffast-math|fopenmp|march=native|mtune=native|std=c\+\+\d\d|"
    r"D\w+(=[\w.]+)?|funroll-loops|fno-math-errno|Wno-[\w-]+|w|g|lgomp|lm|"
    r"use_fast_math|-use_fast_math|lineinfo|Xptxas=-v|arch=sm_\d+a?|maxrregcount=\d+)$"
)


class ExtensionSpec(BaseModel):
    """One loader call, normalised."""

    kind: Kind
    name: str
    cpp_sources: list[str]
    cuda_sources: list[str] = []
    functions: list[str] = []
    cflags: list[str] = []
    cuda_cflags: list[str] = []
    ldflags: list[str] = []

    @property
    def key(self) -> str:
        text = json.dumps([BUILD_VERSION, self.model_dump(), _toolchain_id()], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    @property
    def module_name(self) -> str:
        return f"rt_{self.key}"


class BuildResult(BaseModel):
    ok: bool
    path: str = ""
    log: str = ""
    cuda_report: str = ""
    """ptxas's register and shared-memory report for CUDA sources (compile check only)."""


def spec_from_call(loader: str, args: Sequence[Any], kwargs: dict[str, Any]) -> ExtensionSpec:
    """The spec of ``load_inline(...)`` or ``load_cpp(...)`` as called (same normalisation for
    the static pass and at run time, so the keys agree)."""
    names = ("name", "cpp_sources", "cuda_sources", "functions")
    given = dict(zip(names, args, strict=False)) | kwargs
    functions = given.get("functions") or []
    if isinstance(functions, str):
        functions = [functions]
    elif isinstance(functions, dict):
        functions = list(functions)
    spec = ExtensionSpec(
        kind="plain" if loader == "load_cpp" else "torch",
        name=str(given.get("name", "ext")),
        cpp_sources=_listed(given.get("cpp_sources")),
        cuda_sources=_listed(given.get("cuda_sources")),
        functions=[str(f) for f in functions],
        cflags=_listed(given.get("extra_cflags")),
        cuda_cflags=_listed(given.get("extra_cuda_cflags")),
        ldflags=_listed(given.get("extra_ldflags")),
    )
    bad = [f for f in [*spec.cflags, *spec.cuda_cflags, *spec.ldflags] if not _FLAG.match(f)]
    if bad:
        raise ValueError(f"compiler flags not allowed: {' '.join(bad)}")
    if not spec.functions:
        raise ValueError(f"{loader}: name the functions to export (functions=[...])")
    return spec


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _toolchain_id() -> str:
    import torch

    return f"{sys.version_info[:2]}-torch{torch.__version__}"


def build(spec: ExtensionSpec, cache: Path, *, timeout: float = 600) -> BuildResult:
    """Compile ``spec`` into ``cache`` (trusted code; the caller puts it in the sandbox)."""
    target = cache / f"{spec.module_name}.so"
    if target.is_file():
        return BuildResult(ok=True, path=str(target))
    work = Path(tempfile.mkdtemp(prefix=f"{spec.module_name}.", dir=cache))  # one per build
    try:
        return _build_in(spec, work, target, timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _build_in(spec: ExtensionSpec, work: Path, target: Path, timeout: float) -> BuildResult:
    source = work / "main.cpp"
    source.write_text(_main_source(spec))
    log, cuda_report, objects = "", "", []
    if spec.cuda_sources:
        ok, cuda_report = _cuda_check(spec, work, timeout)
        if not ok:
            return BuildResult(ok=False, log=cuda_report, cuda_report=cuda_report)
        if not _cuda_torch():  # a compile check only: nothing here could run it
            return BuildResult(ok=True, cuda_report=cuda_report)
        objects = [str(work / "kernel.o"), *_cuda_link_flags()]
    command = ["g++", "-shared", "-fPIC", "-O3", "-std=c++17", *spec.cflags, str(source),
               *objects]  # fmt: skip
    if spec.kind == "torch":
        command += _torch_flags(spec)
    command += ["-o", str(work / "out.so"), *spec.ldflags]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        return BuildResult(ok=False, log=f"the compiler ran past {timeout:.0f} s")
    log = (done.stdout + done.stderr)[-6000:]
    if done.returncode != 0:
        return BuildResult(ok=False, log=log.replace(str(source), "kernel.cpp"))
    os.replace(work / "out.so", target)  # atomic: a concurrent build of the same key is harmless
    return BuildResult(ok=True, path=str(target), log=log, cuda_report=cuda_report)


def _main_source(spec: ExtensionSpec) -> str:
    body = "\n".join(spec.cpp_sources)
    if spec.kind == "plain":
        return body + "\n"
    binds = "\n".join(
        f'  m.def("{f}", torch::wrap_pybind_function({f}), "{f}");' for f in spec.functions
    )
    head = "" if "torch/extension.h" in body else "#include <torch/extension.h>\n"
    return f"{head}{body}\n\nPYBIND11_MODULE({spec.module_name}, m) {{\n{binds}\n}}\n"


def _torch_defines(spec: ExtensionSpec) -> list[str]:
    """What torch's headers expect of every translation unit of an extension (C++ or CUDA)."""
    import torch

    abi = int(torch._C._GLIBCXX_USE_CXX11_ABI)
    return [f"-D_GLIBCXX_USE_CXX11_ABI={abi}", f"-DTORCH_EXTENSION_NAME={spec.module_name}",
            "-DTORCH_API_INCLUDE_EXTENSION_H"]  # fmt: skip


def _torch_flags(spec: ExtensionSpec) -> list[str]:
    from torch.utils import cpp_extension

    flags = [*_torch_defines(spec), f"-I{sysconfig.get_paths()['include']}"]
    flags += [f"-I{p}" for p in cpp_extension.include_paths()]
    for lib in cpp_extension.library_paths():
        flags += [f"-L{lib}", f"-Wl,-rpath,{lib}"]
    return [*flags, "-lc10", "-ltorch", "-ltorch_cpu", "-ltorch_python"]


def _cuda_torch() -> bool:
    """A CUDA build of torch with a GPU: CUDA extensions are built to run, not only checked."""
    import torch

    return bool(torch.version.cuda) and bool(torch.cuda.is_available())


def _cuda_link_flags() -> list[str]:
    from torch.utils import cpp_extension

    flags = []
    for lib in cpp_extension.library_paths(device_type="cuda"):
        flags += [f"-L{lib}", f"-Wl,-rpath,{lib}"]
    return [*flags, "-lcudart", "-lc10_cuda", "-ltorch_cuda"]


def _cuda_arch() -> str:
    """The GPU's own architecture where torch can see one (sm_90 on an H100/H200), else the
    sm_90 of the compile check."""
    import torch

    if torch.cuda.is_available():
        major, minor = torch.cuda.get_device_capability()
        return f"sm_{major}{minor}"
    return "sm_90"


def _cuda_check(spec: ExtensionSpec, work: Path, timeout: float) -> tuple[bool, str]:
    """Compile the CUDA sources (for the GPU here, else sm_90) with ptxas's resource report,
    into ``kernel.o`` (position-independent, so a GPU machine links it into the
    extension)."""
    from torch.utils import cpp_extension

    source = work / "kernel.cu"
    text = "\n".join(spec.cuda_sources)
    source.write_text(text)
    includes = [f"-I{p}" for p in cpp_extension.include_paths()]
    includes.append(f"-I{sysconfig.get_paths()['include']}")
    command = ["nvcc", "-c", "-std=c++17", f"-arch={_cuda_arch()}", "-Xptxas", "-v", "-O3",
               "-Xcompiler", "-fPIC", *_torch_defines(spec), *spec.cuda_cflags, *includes, str(source),
               "-o", str(work / "kernel.o")]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)  # fmt: skip
    except FileNotFoundError:
        return False, "nvcc is not installed: the CUDA sources cannot be compile-checked"
    except subprocess.TimeoutExpired:
        return False, f"nvcc ran past {timeout:.0f} s"
    report = (done.stdout + done.stderr).replace(str(source), "kernel.cu")[-6000:]
    return done.returncode == 0, report


def load(spec: ExtensionSpec, cache: Path) -> Any:
    """The built extension: a Python module (torch kind) or a ctypes binding (plain kind)."""
    path = cache / f"{spec.module_name}.so"
    if not path.is_file():
        raise ImportError(
            f"extension {spec.name!r} was not built before the run (its sources and flags must "
            "be literals the static pass can read)"
        )
    if spec.kind == "torch":
        loader = importlib.machinery.ExtensionFileLoader(spec.module_name, str(path))
        found = importlib.util.spec_from_loader(spec.module_name, loader)
        assert found is not None
        module = importlib.util.module_from_spec(found)
        loader.exec_module(module)
        return module
    return PlainExtension(ctypes.CDLL(str(path)), spec)


_C_TYPES: dict[str, Any] = {
    "float": ctypes.c_float, "double": ctypes.c_double, "int": ctypes.c_int,
    "int32_t": ctypes.c_int32, "int64_t": ctypes.c_int64, "long": ctypes.c_long,
    "size_t": ctypes.c_size_t, "unsigned": ctypes.c_uint, "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64, "bool": ctypes.c_bool, "long long": ctypes.c_longlong,
}  # fmt: skip
_PROTOTYPE = re.compile(r'extern\s+"C"\s+(?:\w+\s+)*?(void|[\w ]+?)\s+(\w+)\s*\(([^)]*)\)', re.S)


class PlainExtension:
    """``extern "C"`` functions of a plain C++ library, called with tensors and numbers."""

    def __init__(self, library: ctypes.CDLL, spec: ExtensionSpec) -> None:
        prototypes = {m.group(2): m for m in _PROTOTYPE.finditer("\n".join(spec.cpp_sources))}
        for name in spec.functions:
            match = prototypes.get(name)
            if match is None:
                raise ImportError(f'load_cpp: no extern "C" prototype for {name}')
            function = getattr(library, name)
            function.argtypes = [_param(p) for p in _split(match.group(3))]
            result = match.group(1).strip()
            function.restype = None if result == "void" else _C_TYPES.get(result, ctypes.c_int64)
            setattr(self, name, _caller(function))


def _split(params: str) -> list[str]:
    params = params.strip()
    return [] if params in ("", "void") else [p.strip() for p in params.split(",")]


def _param(text: str) -> Any:
    if "*" in text:
        return ctypes.c_void_p
    words = [w for w in re.split(r"\s+", text) if w not in ("const", "unsigned", "signed")][:-1]
    base = " ".join(words) or "int"
    return _C_TYPES.get(base, ctypes.c_int64)


def _caller(function: Any) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return function(*[_pointer(a) for a in args])

    return call


def _pointer(value: Any) -> Any:
    data_ptr = getattr(value, "data_ptr", None)
    return ctypes.c_void_p(data_ptr()) if callable(data_ptr) else value


def load_cpp(
    name: str,
    cpp_sources: str | Sequence[str],
    functions: Sequence[str] | str | None = None,
    extra_cflags: Sequence[str] | None = None,
    extra_ldflags: Sequence[str] | None = None,
) -> Any:
    """Build (outside the evaluator) and load plain C++ kernels; see the module docstring."""
    spec = spec_from_call("load_cpp", [name, cpp_sources], {"functions": functions,
                          "extra_cflags": extra_cflags, "extra_ldflags": extra_ldflags})  # fmt: skip
    cache = default_cache()
    result = build(spec, cache)
    if not result.ok:
        raise ImportError(result.log)
    return load(spec, cache)


def default_cache() -> Path:
    root = os.environ.get("RETARGET_KERNEL_CACHE") or str(Path.home() / ".cache" / "retarget")
    path = Path(root) / "kernels"
    path.mkdir(parents=True, exist_ok=True)
    return path


def main() -> None:
    """``python -m retarget.kernelgen.native CACHE`` builds the spec given on stdin (this is
    what the evaluator runs in the sandbox) and prints the :class:`BuildResult`."""
    spec = ExtensionSpec.model_validate_json(sys.stdin.read())
    print(build(spec, Path(sys.argv[1])).model_dump_json())


if __name__ == "__main__":
    main()
