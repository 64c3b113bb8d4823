# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Data retention: exact alpha split per batch and the annealing schedule."""

import pytest
from rl_replay.buffer import ReplayBuffer
from rl_replay.sampler import LinearAlphaSchedule, MixedSampler
import torch


def filled(value, n=50):
    buf = ReplayBuffer(n, 3, 2)
    buf.add_batch(torch.full((n, 3), value), torch.zeros(n, 2), torch.full((n,), value),
                  torch.full((n, 3), value), torch.zeros(n), torch.zeros(n))
    return buf


def test_schedule_endpoints_midpoint_and_after():
    s = LinearAlphaSchedule(0.5, 1.0, 10_000)
    assert s(0) == 0.5 and s(5_000) == 0.75 and s(10_000) == 1.0 and s(50_000) == 1.0
    assert LinearAlphaSchedule(0.5, 1.0, 0)(0) == 1.0


@pytest.mark.parametrize('kwargs,match', [({'start': -0.1}, 'start'), ({'end': 1.5}, 'end'),
                                          ({'steps': -1}, 'steps')])
def test_schedule_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LinearAlphaSchedule(**kwargs)


@pytest.mark.parametrize('step', [0, 1, 2500, 3333, 7777, 10_000, 20_000])
def test_batch_composition_equals_alpha_split(step):
    online, offline = filled(1.0), filled(0.0)
    sampler = MixedSampler(online, offline, 256, LinearAlphaSchedule(0.5, 1.0, 10_000))
    alpha = sampler.schedule(step)
    batch = sampler.sample(step, torch.Generator().manual_seed(step))
    n_online = int(batch.reward.sum())
    assert n_online == int(alpha * 256 + 0.5)
    assert sampler.split(step) == (n_online, 256 - n_online)
    assert batch.reward[:n_online].eq(1).all() and batch.reward[n_online:].eq(0).all()


def test_split_rounds_half_up_and_handles_missing_buffers():
    sampler = MixedSampler(filled(1.0), filled(0.0), 5, LinearAlphaSchedule(0.5, 0.5, 0))
    assert sampler.split(0) == (3, 2)  # 2.5 rounds up, not to even
    assert MixedSampler(filled(1.0), None, 8, LinearAlphaSchedule()).split(0) == (8, 0)
    empty = ReplayBuffer(4, 3, 2)
    assert MixedSampler(empty, filled(0.0), 8, LinearAlphaSchedule()).split(0) == (0, 8)
