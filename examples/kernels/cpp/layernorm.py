"""LayerNorm: two passes per row (mean, variance), then scale and shift."""

import torch
import torch.nn as nn

from retarget.kernelgen.native import load_cpp

SOURCE = r"""
#include <cmath>
#include <cstdint>

extern "C" void layer_norm(const float* x, const float* w, const float* b, float* y,
                           int64_t rows, int64_t cols, float eps) {
    #pragma omp parallel for
    for (int64_t r = 0; r < rows; ++r) {
        const float* in = x + r * cols;
        float* out = y + r * cols;
        double mean = 0.0;
        for (int64_t c = 0; c < cols; ++c) mean += in[c];
        mean /= cols;
        double var = 0.0;
        for (int64_t c = 0; c < cols; ++c) var += (in[c] - mean) * (in[c] - mean);
        var /= cols;
        const float inv = 1.0f / std::sqrt(static_cast<float>(var) + eps);
        for (int64_t c = 0; c < cols; ++c)
            out[c] = (in[c] - static_cast<float>(mean)) * inv * w[c] + b[c];
    }
}
"""

kernels = load_cpp("layernorm", SOURCE, functions=["layer_norm"],
                   extra_cflags=["-O3", "-fopenmp"], extra_ldflags=["-fopenmp"])


class ModelNew(nn.Module):
    def __init__(self, features, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features))
        self.bias = nn.Parameter(torch.randn(features))
        self.eps = eps

    def forward(self, x):
        x = x.contiguous()
        y = torch.empty_like(x)
        kernels.layer_norm(x, self.weight, self.bias, y, x.shape[0], x.shape[1], self.eps)
        return y
