# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Actor and critic-ensemble networks.

Critics are stored as one ensemble whose weights have a leading member axis, so all critics
run in a single batched matmul per layer instead of a Python loop over members.
"""

import math
from typing import Sequence, Tuple

import torch
from torch import nn
import torch.nn.functional as F

LOG_STD_MIN = -5.0
LOG_STD_MAX = 2.0


class EnsembleLinear(nn.Module):
    """C independent linear layers applied to a (C, B, in) batch with one ``baddbmm``."""

    def __init__(self, members: int, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(members, 1, out_features))
        bound = 1.0 / math.sqrt(in_features)
        # Same initialisation as nn.Linear (kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(in), ..)).
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (C, B, in) to (C, B, out); a (B, in) input is shared by all members."""
        if x.dim() == 2:
            # Shared input: one (B, in) x (in, C*out) matmul instead of C copies of x.
            c, i, o = self.weight.shape
            flat = self.weight.permute(1, 0, 2).reshape(i, c * o)
            return (x @ flat).view(x.shape[0], c, o).transpose(0, 1) + self.bias
        return torch.baddbmm(self.bias, x, self.weight)


class EnsembleLayerNorm(nn.Module):
    """LayerNorm over features with a separate affine transform per ensemble member."""

    def __init__(self, members: int, features: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(members, 1, features))
        self.bias = nn.Parameter(torch.zeros(members, 1, features))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise the last axis of (C, B, F) and apply the member's affine."""
        x = F.layer_norm(x, x.shape[-1:], eps=self.eps)
        return torch.addcmul(self.bias, x, self.weight)


class BROCriticEnsemble(nn.Module):
    """
    BRO critic (Nauman et al. 2024) for C members: Dense(W)-LN-ReLU, K residual blocks.

    Each block is [Dense-LN-ReLU-Dense-LN] plus a skip connection; the head is linear.
    """

    def __init__(self, obs_dim: int, action_dim: int, width: int = 512, blocks: int = 2,
                 members: int = 2):
        super().__init__()
        self.members = members
        self.inp = EnsembleLinear(members, obs_dim + action_dim, width)
        self.inp_norm = EnsembleLayerNorm(members, width)
        self.blocks = nn.ModuleList()
        for _ in range(blocks):
            self.blocks.append(nn.ModuleList([
                EnsembleLinear(members, width, width), EnsembleLayerNorm(members, width),
                EnsembleLinear(members, width, width), EnsembleLayerNorm(members, width)]))
        self.head = EnsembleLinear(members, width, 1)

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Return Q-values of shape (C, B)."""
        x = F.relu(self.inp_norm(self.inp(torch.cat([obs, action], dim=-1))))
        for lin1, ln1, lin2, ln2 in self.blocks:
            x = x + ln2(lin2(F.relu(ln1(lin1(x)))))
        return self.head(x).squeeze(-1)


class MLPCriticEnsemble(nn.Module):
    """Plain ReLU MLP critics (the Stable-Baselines3 / CleanRL reference architecture)."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: Sequence[int] = (256, 256),
                 members: int = 2):
        super().__init__()
        self.members = members
        sizes = [obs_dim + action_dim, *hidden]
        self.layers = nn.ModuleList(
            EnsembleLinear(members, a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.head = EnsembleLinear(members, sizes[-1], 1)

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Return Q-values of shape (C, B)."""
        x = torch.cat([obs, action], dim=-1)
        for layer in self.layers:
            x = F.relu(layer(x))
        return self.head(x).squeeze(-1)


class TanhGaussianActor(nn.Module):
    """MLP policy producing a tanh-squashed diagonal Gaussian over actions in [-1, 1]."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: Sequence[int] = (64, 64)):
        super().__init__()
        layers = []
        last = obs_dim
        for width in hidden:
            layers += [nn.Linear(last, width), nn.ReLU()]
            last = width
        self.trunk = nn.Sequential(*layers)
        self.mean = nn.Linear(last, action_dim)
        self.log_std = nn.Linear(last, action_dim)

    def forward(self, obs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return the pre-tanh mean and the clamped log standard deviation."""
        h = self.trunk(obs)
        return self.mean(h), self.log_std(h).clamp(LOG_STD_MIN, LOG_STD_MAX)

    def sample(self, obs: torch.Tensor,
               generator: torch.Generator = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return a reparameterised action in [-1, 1] and its log-probability (B,)."""
        mean, log_std = self(obs)
        std = log_std.exp()
        noise = torch.randn(mean.shape, generator=generator, device=mean.device,
                            dtype=mean.dtype)
        pre_tanh = mean + std * noise
        action = torch.tanh(pre_tanh)
        # log N(u; mean, std) - sum log(1 - tanh(u)^2), the latter in the stable softplus form.
        log_prob = (-0.5 * noise.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_prob = log_prob - (2 * (math.log(2) - pre_tanh - F.softplus(-2 * pre_tanh))).sum(-1)
        return action, log_prob

    def deterministic(self, obs: torch.Tensor) -> torch.Tensor:
        """Return the mode of the policy, tanh(mean)."""
        return torch.tanh(self(obs)[0])
