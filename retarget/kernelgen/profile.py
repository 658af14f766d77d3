"""Profiles of a candidate: torch.profiler rows (every device), Nsight Compute metrics (a GPU
with ``ncu``), and the short text the judge reads.

Nsight Compute is run by the evaluator around the harness's profile role; this module knows
which metrics to ask for (the ones CudaForge feeds its judge) and how to read ncu's CSV.
"""

from __future__ import annotations

import csv
import io
import shutil

from pydantic import BaseModel

NCU_METRICS = (
    "sm__cycles_active.avg",
    "sm__warps_active.avg.pct_of_peak_sustained_active",
    "sm__inst_executed.sum",
    "launch__registers_per_thread",
    "launch__occupancy_limit_blocks",
    "launch__occupancy_limit_registers",
    "launch__occupancy_limit_shared_mem",
    "launch__shared_mem_per_block_static",
    "dram__bytes_read.sum",
    "dram__bytes_write.sum",
    "dram__throughput.avg.pct_of_peak_sustained_elapsed",
    "l1tex__t_sector_hit_rate.pct",
    "lts__t_sector_hit_rate.pct",
    "lts__throughput.avg.pct_of_peak_sustained_elapsed",
    "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",
    "sm__inst_executed_pipe_fma.avg.pct_of_peak_sustained_active",
    "smsp__average_warp_latency_issue_stalled_long_scoreboard",
    "smsp__average_warp_latency_issue_stalled_short_scoreboard",
    "smsp__average_warp_latency_issue_stalled_barrier",
    "smsp__average_warp_latency_issue_stalled_memory_dependency",
    "smsp__average_warp_latency_issue_stalled_branch_resolving",
)
"""Occupancy limits, registers, achieved occupancy, DRAM and L1/L2 throughput and hit rates,
tensor and FMA pipe use, warp stall reasons."""


class ProfileRow(BaseModel):
    """One op or kernel of three profiled calls; times are per call."""

    name: str
    calls: int
    self_ms: float
    total_ms: float = 0.0


class KernelMetrics(BaseModel):
    """Nsight Compute's metrics of one kernel (the values of its last profiled launch)."""

    kernel: str
    metrics: dict[str, str]


def ncu_available() -> bool:
    return shutil.which("ncu") is not None


def ncu_command(launches: int = 20) -> list[str]:
    """The ncu prefix for the harness command: CSV of the chosen metrics, child processes
    followed, at most ``launches`` kernel launches profiled."""
    return ["ncu", "--csv", "--target-processes", "all", "--launch-count", str(launches),
            "--metrics", ",".join(NCU_METRICS)]  # fmt: skip


def parse_ncu_csv(text: str) -> list[KernelMetrics]:
    """ncu ``--csv`` output (one row per kernel launch and metric, after ncu's own ``==PROF==``
    lines) as one entry per kernel name, first appearance first."""
    lines = [line for line in text.splitlines() if line.startswith('"')]
    by_kernel: dict[str, dict[str, str]] = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        kernel, metric = row.get("Kernel Name"), row.get("Metric Name")
        if not kernel or not metric:
            continue
        unit = (row.get("Metric Unit") or "").strip()
        value = (row.get("Metric Value") or "").strip()
        by_kernel.setdefault(kernel, {})[metric] = f"{value} {unit}".strip()
    return [KernelMetrics(kernel=k, metrics=m) for k, m in by_kernel.items()]


def _short(name: str, width: int = 48) -> str:
    return name if len(name) <= width else name[: width - 3] + "..."


def profile_lines(rows: list[ProfileRow], limit: int = 6) -> list[str]:
    """Where the time of one call goes: the candidate's kernels (``kernel:`` labels) and the
    other ops, by self time."""
    shown = [r for r in rows if r.self_ms > 0 and r.name != "ProfilerStep*"]
    total = sum(r.self_ms for r in shown) or 1.0
    in_kernels = sum(r.self_ms for r in shown if r.name.startswith("kernel:"))
    lines = [f"profile (per call): {total:.3f} ms profiled, {100 * in_kernels / total:.0f}% "
             "inside the candidate's kernels"]  # fmt: skip
    for row in shown[:limit]:
        lines.append(f"  {_short(row.name)}: {row.self_ms:.3f} ms self "
                     f"({100 * row.self_ms / total:.0f}%), {row.calls} call(s)")  # fmt: skip
    return lines


def metrics_lines(kernels: list[KernelMetrics], limit: int = 3) -> list[str]:
    """Nsight Compute's figures, a line per metric of the first kernels."""
    lines: list[str] = []
    for entry in kernels[:limit]:
        lines.append(f"ncu {_short(entry.kernel)}:")
        lines += [f"  {name} = {value}" for name, value in entry.metrics.items()]
    return lines
