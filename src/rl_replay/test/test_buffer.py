# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Ring buffer: storage, wrap-around, validation before writing, dtypes."""

import numpy as np
import pytest
from rl_replay.buffer import NonFiniteError, ReplayBuffer
import torch


def batch(n, obs_dim=4, action_dim=2, start=0):
    ids = torch.arange(start, start + n)
    return {'obs': ids[:, None].float().expand(n, obs_dim).clone(),
            'action': torch.full((n, action_dim), 0.5), 'reward': ids.float(),
            'next_obs': ids[:, None].float().expand(n, obs_dim) + 0.5,
            'terminated': ids % 3 == 0, 'truncated': ids % 5 == 0, 'step_id': ids}


def test_add_sample_and_len():
    buf = ReplayBuffer(100, 4, 2)
    buf.add_batch(**batch(10))
    assert len(buf) == 10 and int(buf.size_tensor) == 10
    sample = buf.sample(32, torch.Generator().manual_seed(0))
    assert sample.obs.shape == (32, 4) and sample.reward.shape == (32,)
    assert sample.terminated.dtype == torch.float32
    assert torch.equal(sample.obs[:, 0], sample.reward)  # rows stay aligned


def test_wrap_around_keeps_newest_in_order():
    buf = ReplayBuffer(8, 4, 2)
    buf.add_batch(**batch(5))
    buf.add_batch(**batch(6, start=5))
    arrays = buf.arrays()
    assert arrays['reward'].tolist() == list(range(3, 11))
    assert arrays['step_id'].tolist() == list(range(3, 11))
    big = ReplayBuffer(4, 4, 2)
    big.add_batch(**batch(10))
    assert big.arrays()['reward'].tolist() == [6, 7, 8, 9]


@pytest.mark.parametrize('field', ['obs', 'next_obs', 'reward', 'action'])
@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_non_finite_rejected_naming_field_and_nothing_stored(field, bad):
    buf = ReplayBuffer(10, 4, 2)
    data = batch(3)
    data[field] = data[field].clone()
    data[field].view(-1)[-1] = bad
    with pytest.raises(NonFiniteError, match=f'{field} contains NaN or inf \\(row 2'):
        buf.add_batch(**data)
    assert len(buf) == 0 and buf.storage['reward'].abs().sum() == 0


def test_out_of_range_action_and_bad_shape_rejected():
    buf = ReplayBuffer(10, 4, 2)
    data = batch(3)
    data['action'] = data['action'] * 3
    with pytest.raises(ValueError, match='action outside'):
        buf.add_batch(**data)
    data = batch(3)
    data['obs'] = torch.zeros(3, 5)
    with pytest.raises(ValueError, match='obs has shape'):
        buf.add_batch(**data)
    assert len(buf) == 0


def test_float16_features_and_uint8_pixels():
    buf = ReplayBuffer(10, 4, 2, feature_dtype=torch.float16, pixel_shape=(1, 8, 8))
    pixels = np.random.default_rng(0).integers(0, 255, (3, 1, 8, 8), dtype=np.uint8)
    buf.add_batch(**batch(3), pixels=pixels, next_pixels=pixels[::-1].copy())
    assert buf.storage['obs'].dtype == torch.float16
    assert buf.storage['pixels'].dtype == torch.uint8
    sample = buf.gather(torch.tensor([2, 0]))
    assert sample.obs.dtype == torch.float32
    assert np.array_equal(sample.pixels.numpy(), pixels[[2, 0]])
    assert np.array_equal(sample.next_pixels.numpy(), pixels[::-1][[2, 0]])


def test_state_dict_round_trip():
    buf = ReplayBuffer(6, 4, 2)
    buf.add_batch(**batch(9))
    other = ReplayBuffer(6, 4, 2)
    other.load_state_dict(buf.state_dict())
    for key, value in buf.arrays().items():
        assert np.array_equal(value, other.arrays()[key]), key


def test_empty_buffer_cannot_sample():
    with pytest.raises(ValueError, match='empty'):
        ReplayBuffer(4, 4, 2).sample(2)


def test_pixels_missing_or_float_refused_with_shape_named():
    buf = ReplayBuffer(10, 4, 2, pixel_shape=(1, 8, 8))
    with pytest.raises(ValueError, match=r'pixels is missing \(expected shape \(3, 1, 8, 8\)\)'):
        buf.add_batch(**batch(3))
    with pytest.raises(ValueError, match='dtype torch.float32; expected uint8'):
        buf.add_batch(**batch(3), pixels=np.ones((3, 1, 8, 8), np.float32),
                      next_pixels=np.ones((3, 1, 8, 8), np.uint8))
    with pytest.raises(ValueError, match=r'shape \(3, 1, 4, 8\), expected \(3, 1, 8, 8\)'):
        buf.add_batch(**batch(3), pixels=np.ones((3, 1, 4, 8), np.uint8),
                      next_pixels=np.ones((3, 1, 8, 8), np.uint8))
    buf.add_batch(**batch(3), pixels=np.full((3, 1, 8, 8), 200, np.int64),
                  next_pixels=np.zeros((3, 1, 8, 8), np.uint8))
    assert len(buf) == 3 and int(buf.storage['pixels'][0].max()) == 200
