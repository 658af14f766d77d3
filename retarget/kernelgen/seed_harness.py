# mypy: disable-error-code="no-untyped-call"
"""The seed harness: runs *inside* the sandbox, because the task file is user code.

``python -m retarget.kernelgen.seed_harness`` reads a :class:`~retarget.kernelgen.seed.SeedRequest`
on stdin and writes ``result.json`` (``source`` or null, ``reason``, ``final``: whether the answer
may be cached, and the request's nonce) into its working directory as its last act:

1. ``Model`` from ``get_init_inputs()`` and inputs from ``get_inputs()``; ``torch.compile``
   (inductor, ``cpp.simdlen = 0`` so the C++ is scalar, no ``at::vec``; ``dynamic_threads`` so
   per-thread partial results are sized by the threads at run time, not by this machine's
   core count, which a cached seed may not share) of a function that
   takes the parameters and buffers explicitly (``torch.func.functional_call``), through a
   backend that records the graph's example inputs: each is one of the tensors passed, found
   by identity, so every argument of inductor's ``call`` is known to be a named parameter,
   buffer or input, not guessed from its position;
2. the candidate, by :func:`retarget.kernelgen.seed.candidate_source`;
3. the candidate built and run against the eager model for two other seeds (weights and
   inputs), the way the evaluator's harness makes them: a wrong mapping, a missing helper or
   a layout mistake is found here, before the seed is handed out.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from retarget.kernelgen.compare import compare
from retarget.kernelgen.harness import _load_module, _model, _quiet_stdout, _seeded
from retarget.kernelgen.seed import (
    ForwardInput,
    GraphArg,
    NoSeed,
    SeedPlan,
    SeedRequest,
    TensorInfo,
    candidate_source,
)

CHECK_SEEDS = ((101, 102), (203, 204))
"""(model seed, input seed) pairs of the self-check, unlike the compile's (0, 1)."""


def _made(task: ModuleType, cls: Any, seed: int) -> Any:
    """A model as the evaluator's harness makes it for a model seed (on the CPU)."""
    return _model(task, cls, seed, "cpu")


def _tensor_info(value: Any) -> TensorInfo:
    return TensorInfo(shape=list(value.shape), stride=list(value.stride()),
                      dtype=str(value.dtype).removeprefix("torch."))  # fmt: skip


def _output_kind(output: Any) -> tuple[Literal["tensor", "tuple", "list"], int]:
    import torch

    if isinstance(output, torch.Tensor):
        return "tensor", 1
    if isinstance(output, tuple | list) and all(isinstance(o, torch.Tensor) for o in output):
        return ("tuple" if isinstance(output, tuple) else "list"), len(output)
    raise NoSeed(f"the model returns {type(output).__name__}, not a tensor or a tuple of "
                 "tensors: no seed")  # fmt: skip


def compile_task(task: ModuleType, name: str) -> tuple[str, SeedPlan]:
    """Inductor's output code for the task, and what each of ``call``'s arguments is."""
    import torch
    from torch._inductor import config
    from torch._inductor.compile_fx import compile_fx
    from torch._inductor.utils import run_and_get_code

    config.cpp.simdlen = 0  # scalar C++: no at::vec::Vectorized
    config.cpp.dynamic_threads = True  # per-thread partials sized at run time, not for this host
    config.compile_threads = 1
    config.fx_graph_cache = False  # the code is captured as it is generated
    model = _made(task, task.Model, 0)
    inputs = list(_seeded(1, task.get_inputs))
    with torch.no_grad():
        output, count = _output_kind(model(*inputs))
    state = [*model.named_parameters(), *model.named_buffers()]
    names = [n for n, _ in state]
    values = [t.detach().clone() for _, t in state]  # distinct objects, to be found by identity
    passed = [*values, *inputs]

    def explicit(*args: Any) -> Any:
        weights = dict(zip(names, args[: len(names)], strict=True))
        return torch.func.functional_call(model, weights, tuple(args[len(names) :]))

    seen: list[list[Any]] = []

    def backend(graph: Any, example_inputs: list[Any]) -> Any:
        seen.append(list(example_inputs))
        return compile_fx(graph, example_inputs)

    compiled = torch.compile(explicit, backend=backend, fullgraph=True, dynamic=False)
    with torch.no_grad():
        _, codes = run_and_get_code(compiled, *passed)
    if len(seen) != 1 or len(codes) != 1:
        raise NoSeed(f"torch.compile made {len(codes)} graphs, not one: no seed")
    args = []
    for k, example in enumerate(seen[0]):
        where = next((i for i, v in enumerate(passed) if v is example), None)
        if where is None or not isinstance(example, torch.Tensor):
            raise NoSeed(f"graph input {k} is none of the parameters, buffers or inputs passed "
                         "(cannot tell what to give the kernels): no seed")  # fmt: skip
        if where < len(names):
            args.append(GraphArg(kind="state", name=names[where], tensor=_tensor_info(example)))
        else:
            args.append(GraphArg(kind="input", index=where - len(names),
                                 tensor=_tensor_info(example)))  # fmt: skip
    described = []
    for k, value in enumerate(inputs):
        if isinstance(value, torch.Tensor):
            described.append(ForwardInput(tensor=_tensor_info(value)))
        elif isinstance(value, bool | int | float):
            described.append(ForwardInput(value=value))
        else:
            raise NoSeed(f"input {k} is a {type(value).__name__}: no seed")
    plan = SeedPlan(name=name, args=args, inputs=described, output=output, outputs=count)
    return codes[0], plan


def check_candidate(task: ModuleType, source: str, scratch: Path) -> str:
    """'' when the candidate agrees with the eager model on :data:`CHECK_SEEDS`, else why not."""
    import torch

    path = scratch / "seed_candidate.py"
    path.write_text(source)
    try:
        candidate = _load_module(str(path), "seed_candidate")
    except ImportError as exc:
        errors = [line for line in str(exc).splitlines() if "error" in line]
        shown = "\n".join(errors[:3]) or str(exc)[-600:]
        return f"its C++ does not build with the seed's prelude: {shown}"
    for model_seed, input_seed in CHECK_SEEDS:
        reference = _made(task, task.Model, model_seed)
        with torch.no_grad():
            want = reference(*_seeded(input_seed, task.get_inputs))
        try:
            mine = _made(task, candidate.ModelNew, model_seed)
            with torch.no_grad():
                got = mine(*_seeded(input_seed, task.get_inputs))
        except Exception as exc:  # the candidate's failure is the finding
            return f"it raises {type(exc).__name__}: {str(exc)[:300]}"
        listed = [list(v) if isinstance(v, tuple | list) else [v] for v in (got, want)]
        verdict = compare(listed[0], listed[1])
        if not verdict.ok:
            return f"model seed {model_seed}, input seed {input_seed}: {verdict.reason}"
    return ""


def make(request: SeedRequest, scratch: Path) -> dict[str, Any]:
    task = _load_module(request.task, "seed_task")
    try:
        code, plan = compile_task(task, request.name)
    except NoSeed:
        raise
    except Exception as exc:  # torch.compile's own failure is the reason there is no seed
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        return {"source": None, "final": False,  # a limit may explain it: not cached
                "reason": f"torch.compile failed: {type(exc).__name__}: {first}"}  # fmt: skip
    (scratch / "inductor_code.py").write_text(code)  # for whoever debugs a refusal by hand
    made = candidate_source(code, plan, Path(request.task).read_text())
    problem = check_candidate(task, made.source, scratch)
    if problem:
        return {"source": None, "final": True, "reason": "the seed made from torch.compile's "
                f"code disagrees with the eager model: {problem}"}  # fmt: skip
    widened = (f"; {made.widened} float sum(s) accumulate in double"
               if made.widened else "")  # fmt: skip
    return {"source": made.source, "final": True, "reason": "made from torch.compile's C++ (inductor, scalar "
            f"code) for the task's shapes: {len(made.kernels)} kernel(s) "
            f"({', '.join(made.kernels)}){widened}; agrees with the eager model on "
            f"{len(CHECK_SEEDS)} other seeds"}  # fmt: skip


def main() -> None:
    request = SeedRequest.model_validate_json(sys.stdin.read())
    scratch = Path.cwd()
    try:
        with _quiet_stdout():
            result = make(request, scratch)
    except NoSeed as exc:
        result = {"source": None, "final": True, "reason": str(exc)}
    except BaseException as exc:  # the task's code may raise anything, SystemExit too
        result = {"source": None, "final": False, "reason": "the seed harness failed: "
                  f"{type(exc).__name__}: {str(exc)[:1000]}"}  # fmt: skip
    result["nonce"] = request.nonce
    (scratch / "result.json").write_text(json.dumps(result))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
