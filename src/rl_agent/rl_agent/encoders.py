# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Pixel encoder and DrQ random-shift augmentation (the paper's Panda vision setup).

- ``ConvEncoder``: uint8 pixels (N, C, H, W) scaled to [0, 1], then conv 3x3 / stride 2 /
  ReLU layers (channels 32, 64, 128, 256 by default; padding 1, i.e. 'SAME'-sized
  outputs ceil(H / 2)), flatten, Dense(feature_dim) -> LayerNorm -> tanh.
- ``random_shift``: DrQ's augmentation: replicate-pad by ``pad`` pixels and crop back to
  (H, W) at a random offset, independently per sample. It is written as an integer gather
  of clamped row/column indices, which equals replicate-pad + crop exactly, keeps the
  input dtype (uint8 stays uint8) and draws its offsets from a given generator.
"""

from typing import Optional, Sequence, Tuple

import torch
from torch import nn


def conv_output_size(size: int, layers: int) -> int:
    """Spatial size after ``layers`` convs with kernel 3, stride 2, padding 1."""
    for _ in range(layers):
        size = (size + 2 * 1 - 3) // 2 + 1
    return size


class ConvEncoder(nn.Module):
    """Conv 3x3 / stride 2 / ReLU stack, then Dense -> LayerNorm -> tanh features."""

    def __init__(self, pixel_shape: Sequence[int], channels: Sequence[int] = (32, 64, 128, 256),
                 feature_dim: int = 128):
        """Build the encoder for uint8 pixels of shape (C, H, W)."""
        super().__init__()
        if len(pixel_shape) != 3 or min(pixel_shape) < 1:
            raise ValueError(f'pixel_shape={tuple(pixel_shape)} must be (C, H, W) with sizes '
                             '>= 1')
        if not channels:
            raise ValueError('the conv encoder needs at least one conv layer (channels)')
        self.pixel_shape: Tuple[int, ...] = tuple(int(s) for s in pixel_shape)
        self.feature_dim = int(feature_dim)
        layers = []
        last = self.pixel_shape[0]
        for width in channels:
            layers += [nn.Conv2d(last, int(width), kernel_size=3, stride=2, padding=1),
                       nn.ReLU()]
            last = int(width)
        self.convs = nn.Sequential(*layers)
        h = conv_output_size(self.pixel_shape[1], len(channels))
        w = conv_output_size(self.pixel_shape[2], len(channels))
        self.flat_dim = last * h * w
        self.dense = nn.Linear(self.flat_dim, self.feature_dim)
        self.norm = nn.LayerNorm(self.feature_dim)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """Map uint8 pixels (N, C, H, W) to features (N, feature_dim) in [-1, 1]."""
        x = pixels.to(self.dense.weight.dtype) * (1.0 / 255.0)
        x = self.convs(x).flatten(1)
        return torch.tanh(self.norm(self.dense(x)))


def random_shift(pixels: torch.Tensor, pad: int,
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """
    Return DrQ-shifted copies of ``pixels`` (N, C, H, W): replicate-pad, random crop.

    Each sample gets its own offsets (dy, dx) in [-pad, pad]; ``pad`` = 0 returns the
    input unchanged. Shape and dtype are kept.
    """
    if pad <= 0:
        return pixels
    n, _, h, w = pixels.shape
    device = pixels.device
    shifts = torch.randint(0, 2 * pad + 1, (n, 2), device=device, generator=generator) - pad
    rows = (torch.arange(h, device=device) + shifts[:, :1]).clamp_(0, h - 1)  # (N, H)
    cols = (torch.arange(w, device=device) + shifts[:, 1:]).clamp_(0, w - 1)  # (N, W)
    # Gather rows then columns; both index tensors broadcast over the channel axis.
    out = torch.gather(pixels, 2, rows[:, None, :, None].expand(n, pixels.shape[1], h, w))
    return torch.gather(out, 3, cols[:, None, None, :].expand(n, pixels.shape[1], h, w))
