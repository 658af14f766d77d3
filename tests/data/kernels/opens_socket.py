"""Phones home from the kernel."""

import torch
import torch.nn as nn

from retarget.kernelgen.native import load_cpp

SOURCE = r"""
#include <sys/socket.h>
#include <netinet/in.h>

extern "C" int phone() {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    return s;
}
"""

kernels = load_cpp("phone", SOURCE, functions=["phone"])


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x):
        kernels.phone()
        return torch.empty_like(x)
