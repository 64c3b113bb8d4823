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


def with_pixels(value, n=50, shape=(1, 4, 4)):
    buf = ReplayBuffer(n, 3, 2, pixel_shape=shape)
    pixels = torch.full((n, *shape), int(value), dtype=torch.uint8)
    buf.add_batch(torch.full((n, 3), value), torch.zeros(n, 2), torch.full((n,), value),
                  torch.full((n, 3), value), torch.zeros(n), torch.zeros(n),
                  pixels=pixels, next_pixels=pixels + 10)
    return buf


def test_mixed_batches_carry_pixels_row_aligned():
    sampler = MixedSampler(with_pixels(1), with_pixels(0), 10, LinearAlphaSchedule(0.7, 0.7, 0))
    batch = sampler.sample(0, torch.Generator().manual_seed(0))
    assert batch.pixels.shape == (10, 1, 4, 4) and batch.pixels.dtype == torch.uint8
    per_row = batch.pixels.flatten(1)[:, 0].float()
    assert torch.equal(per_row, batch.reward)  # each row's pixels belong to its transition
    assert torch.equal(batch.next_pixels.flatten(1)[:, 0].float(), batch.reward + 10)


def test_pixel_mismatch_refused_and_state_learner_drops_d0_pixels():
    with pytest.raises(ValueError, match=r'D_online stores pixels of shape \(1, 4, 4\) but D0 '
                                         'stores no pixels'):
        MixedSampler(with_pixels(1), filled(0.0), 8, LinearAlphaSchedule())
    with pytest.raises(ValueError, match=r'\(1, 4, 4\) but D0 stores \(1, 8, 8\)'):
        MixedSampler(with_pixels(1), with_pixels(0, shape=(1, 8, 8)), 8, LinearAlphaSchedule())
    sampler = MixedSampler(filled(1.0), with_pixels(0), 8, LinearAlphaSchedule(0.5, 0.5, 0))
    batch = sampler.sample(0)
    assert batch.pixels is None and batch.next_pixels is None and batch.obs.shape == (8, 3)
    assert MixedSampler(with_pixels(1), None, 4, LinearAlphaSchedule()).sample(0).pixels.shape \
        == (4, 1, 4, 4)
