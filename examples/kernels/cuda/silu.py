"""SiLU as a CUDA kernel through load_inline (KernelBench style)."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CUDA_SOURCE = r"""
#include <torch/extension.h>

__global__ void silu_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n) {
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) {
        float v = x[i];
        y[i] = v / (1.0f + __expf(-v));
    }
}

torch::Tensor silu(torch::Tensor x) {
    auto y = torch::empty_like(x);
    int64_t n = x.numel();
    silu_kernel<<<(n + 255) / 256, 256>>>(x.data_ptr<float>(), y.data_ptr<float>(), n);
    return y;
}
"""

CPP_SOURCE = "torch::Tensor silu(torch::Tensor x);"

silu_ext = load_inline(name="silu_cuda", cpp_sources=CPP_SOURCE, cuda_sources=CUDA_SOURCE,
                       functions=["silu"], extra_cuda_cflags=["-O3"])


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        return silu_ext.silu(x.contiguous())
