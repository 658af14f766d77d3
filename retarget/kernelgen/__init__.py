"""Kernel generation: KernelBench-format tasks, backends (cpp, triton, cuda), the evaluator and its
anti-cheat checks, timing and profiler feedback. Nothing here yet beyond the package itself."""
