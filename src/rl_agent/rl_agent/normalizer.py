# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Running observation normalisation (mean/variance over everything observed so far)."""

import torch
from torch import nn


class RunningNormalizer(nn.Module):
    """
    Track per-feature mean and variance with the parallel (Chan et al.) update.

    Statistics live in buffers so they are saved with the agent and follow its device.
    """

    def __init__(self, size: int, clip: float = 10.0, eps: float = 1e-6):
        super().__init__()
        self.register_buffer('mean', torch.zeros(size, dtype=torch.float64))
        self.register_buffer('var', torch.ones(size, dtype=torch.float64))
        self.register_buffer('count', torch.zeros((), dtype=torch.float64))
        self.register_buffer('scale_mean', torch.zeros(size))
        self.register_buffer('scale_inv_std', torch.ones(size))
        self.clip = clip
        self.eps = eps

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> None:
        """Fold a batch (N, size) of raw observations into the statistics."""
        x = x.reshape(-1, self.mean.shape[0]).to(self.mean.device, torch.float64)
        n = x.shape[0]
        if n == 0:
            return
        batch_mean = x.mean(0)
        batch_var = x.var(0, unbiased=False)
        total = self.count + n
        delta = batch_mean - self.mean
        new_mean = self.mean + delta * (n / total)
        m2 = self.var * self.count + batch_var * n + delta.pow(2) * self.count * n / total
        self.mean.copy_(new_mean)
        self.var.copy_(m2 / total)
        self.count.copy_(total)
        # float32 copies used in the hot path, refreshed only here.
        self.scale_mean.copy_(self.mean)
        self.scale_inv_std.copy_((self.var + self.eps).rsqrt())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return (x - mean) / std clipped to [-clip, clip]."""
        return ((x - self.scale_mean) * self.scale_inv_std).clamp(-self.clip, self.clip)
