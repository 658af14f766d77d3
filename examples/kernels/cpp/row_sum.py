"""Row sums, one row per OpenMP thread, vectorised inner loop."""

import torch
import torch.nn as nn

from retarget.kernelgen.native import load_cpp

SOURCE = r"""
#include <cstdint>

extern "C" void row_sum(const float* x, float* y, int64_t rows, int64_t cols) {
    #pragma omp parallel for
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = x + r * cols;
        float acc = 0.0f;
        #pragma omp simd reduction(+:acc)
        for (int64_t c = 0; c < cols; ++c) acc += row[c];
        y[r] = acc;
    }
}
"""

kernels = load_cpp("row_sum", SOURCE, functions=["row_sum"], extra_cflags=["-O3", "-fopenmp"],
                   extra_ldflags=["-fopenmp"])


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        x = x.contiguous()
        y = torch.empty(x.shape[0], dtype=x.dtype)
        kernels.row_sum(x, y, x.shape[0], x.shape[1])
        return y
