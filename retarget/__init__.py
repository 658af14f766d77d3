"""retarget: verified code generation and transpilation.

x86-64 assembly to AArch64 and RISC-V, PyTorch operators to kernels; every candidate is executed
against the original in a sandbox before it is accepted.
"""

__version__ = "0.1.0"
