"""Linear + bias + ReLU fused in one pass over the output."""

import torch
import torch.nn as nn

from retarget.kernelgen.native import load_cpp

SOURCE = r"""
#include <cstdint>

extern "C" void linear_relu(const float* x, const float* w, const float* b, float* y,
                            int64_t rows, int64_t in, int64_t out) {
    #pragma omp parallel for collapse(2)
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t o = 0; o < out; ++o) {
            const float* xr = x + r * in;
            const float* wr = w + o * in;
            float acc = b[o];
            #pragma omp simd reduction(+:acc)
            for (int64_t i = 0; i < in; ++i) acc += xr[i] * wr[i];
            y[r * out + o] = acc > 0.0f ? acc : 0.0f;
        }
}
"""

kernels = load_cpp("linear_relu", SOURCE, functions=["linear_relu"],
                   extra_cflags=["-O3", "-fopenmp"], extra_ldflags=["-fopenmp"])


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)  # holds the weights only

    def forward(self, x):
        x = x.contiguous()
        w = self.linear.weight.contiguous()
        y = torch.empty(x.shape[0], w.shape[0], dtype=x.dtype)
        kernels.linear_relu(x, w, self.linear.bias, y, x.shape[0], x.shape[1], w.shape[0])
        return y
