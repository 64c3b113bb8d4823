# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Online fine-tuning core: warm start, data retention, UTD, resume."""

import pytest
from rl_agent.online import OnlineConfig, OnlineLearner
from rl_agent.sac import SAC, SACConfig
from rl_replay.buffer import ReplayBuffer
import torch


def make(offline=True, **cfg):
    agent = SAC(SACConfig(obs_dim=4, action_dim=2, actor_hidden=(8,), critic_width=16,
                          critic_blocks=1, actor_update_period=2))
    d0 = None
    if offline:
        d0 = ReplayBuffer(100, 4, 2)
        d0.add_batch(torch.zeros(100, 4), torch.zeros(100, 2), torch.zeros(100),
                     torch.zeros(100, 4), torch.zeros(100), torch.zeros(100))
    base = {'utd': 2.0, 'batch_size': 8, 'warm_start_episodes': 1, 'min_replay': 5}
    base.update(cfg)
    return OnlineLearner(agent, OnlineConfig(**base), d0)


def add_episode(learner, n=10):
    learner.add_transitions(torch.ones(n, 4), torch.zeros(n, 2), torch.ones(n),
                            torch.ones(n, 4), torch.zeros(n), torch.zeros(n))
    learner.end_episode(float(n), False)


def test_warm_start_then_utd_updates():
    learner = make(warm_start_episodes=2)
    add_episode(learner)
    assert learner.train_phase()['updates'] == 0  # warm start: pi0 only
    add_episode(learner)
    out = learner.train_phase()
    assert out['updates'] == 20 and learner.gradient_steps == 20
    assert learner.agent.actor_updates == 10


def test_batches_follow_the_annealed_split():
    learner = make(alpha_start=0.5, alpha_end=1.0, alpha_anneal_steps=8, batch_size=8)
    add_episode(learner)
    sampler = learner.sampler()
    batch = sampler.sample(0)
    assert int(batch.reward.sum()) == 4  # online rows have reward 1, D0 rows 0
    assert sampler.split(8) == (8, 0)
    learner.set_config(use_offline_data=False)
    assert learner.sampler().split(0) == (8, 0)


def test_nan_transition_refused_and_not_stored():
    learner = make()
    with pytest.raises(ValueError, match='reward contains NaN'):
        learner.add_transitions(torch.ones(1, 4), torch.zeros(1, 2), [float('nan')],
                                torch.ones(1, 4), [0], [0])
    assert len(learner.online) == 0


def test_save_restore_keeps_transitions_and_counters(tmp_path):
    learner = make()
    add_episode(learner)
    learner.train_phase()
    path = str(tmp_path / 'online.pt')
    learner.save(path)
    other = make()
    assert other.restore(path)
    assert len(other.online) == 10 and other.episodes == 1
    assert other.gradient_steps == learner.gradient_steps
    assert not make().restore(str(tmp_path / 'missing.pt'))


def make_pixel_learner(d0_pixel_shape=(1, 8, 8)):
    agent = SAC(SACConfig(obs_dim=4, action_dim=2, actor_hidden=(8,), critic_width=16,
                          critic_blocks=1, actor_update_period=2, pixel_shape=(1, 8, 8),
                          encoder='conv', encoder_channels=(4,), encoder_feature_dim=8))
    d0 = ReplayBuffer(50, 4, 2, pixel_shape=d0_pixel_shape)
    pixels = torch.zeros(50, *(d0_pixel_shape or (1, 8, 8)), dtype=torch.uint8)
    d0.add_batch(torch.zeros(50, 4), torch.zeros(50, 2), torch.zeros(50), torch.zeros(50, 4),
                 torch.zeros(50), torch.zeros(50), pixels=pixels, next_pixels=pixels)
    return OnlineLearner(agent, OnlineConfig(utd=1.0, batch_size=8, min_replay=5), d0)


def test_pixel_learner_stores_pixels_and_trains():
    learner = make_pixel_learner()
    assert learner.online.pixel_shape == (1, 8, 8)
    pixels = torch.randint(0, 256, (10, 1, 8, 8), dtype=torch.uint8)
    learner.add_transitions(torch.ones(10, 4), torch.zeros(10, 2), torch.ones(10),
                            torch.ones(10, 4), torch.zeros(10), torch.zeros(10),
                            pixels=pixels, next_pixels=pixels.flip(0))
    assert torch.equal(learner.online.storage['pixels'][:10], pixels)
    learner.end_episode(10.0, False)
    out = learner.train_phase()
    assert out['updates'] == 10 and learner.agent.critic_updates == 10
    batch = learner.sampler().sample(0)
    assert batch.pixels.shape == (8, 1, 8, 8)


def test_pixel_learner_refuses_missing_pixels_and_mismatched_d0():
    learner = make_pixel_learner()
    with pytest.raises(ValueError, match=r'pixels missing.*\(1, 8, 8\)'):
        learner.add_transitions(torch.ones(2, 4), torch.zeros(2, 2), torch.ones(2),
                                torch.ones(2, 4), torch.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match=r'shape \(2, 1, 4, 4\), expected \(2, 1, 8, 8\)'):
        learner.add_transitions(torch.ones(2, 4), torch.zeros(2, 2), torch.ones(2),
                                torch.ones(2, 4), torch.zeros(2), torch.zeros(2),
                                pixels=torch.zeros(2, 1, 4, 4, dtype=torch.uint8),
                                next_pixels=torch.zeros(2, 1, 8, 8, dtype=torch.uint8))
    assert len(learner.online) == 0
    with pytest.raises(ValueError, match=r'\(1, 8, 8\) but D0 stores no pixels'):
        make_pixel_learner(d0_pixel_shape=None)
    with pytest.raises(ValueError, match='agent takes no pixels'):
        make().add_transitions(torch.ones(1, 4), torch.zeros(1, 2), [1.0], torch.ones(1, 4),
                               [0], [0], pixels=torch.zeros(1, 1, 8, 8, dtype=torch.uint8))


def test_end_episode_records_reason_and_metrics(tmp_path):
    learner = make()
    add_episode(learner)  # the old two-argument call still works
    assert learner.history[0]['reason'] == ''
    learner.add_transitions(torch.ones(3, 4), torch.zeros(3, 2), torch.ones(3),
                            torch.ones(3, 4), torch.zeros(3), torch.zeros(3))
    learner.end_episode(3.0, True, reason='success',
                        metrics={'reward/distance': -1.5, 'reward/energy': torch.tensor(0.25)})
    row = learner.history[1]
    assert row['reason'] == 'success' and row['success'] == 1.0 and row['episode'] == 2
    assert row['reward/distance'] == -1.5 and row['reward/energy'] == 0.25
    path = str(tmp_path / 'online.pt')
    learner.save(path)
    other = make()
    other.restore(path)
    assert other.history == learner.history


def test_observation_statistics_stay_pretrained_unless_asked():
    frozen = make()
    before = frozen.agent.normalizer.state_dict()
    add_episode(frozen)
    after = frozen.agent.normalizer.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)   # pi0 acts as pretrained
    moving = make(update_obs_stats=True)
    add_episode(moving)
    assert float(moving.agent.normalizer.count) == 10.0
    assert torch.allclose(moving.agent.normalizer.mean, torch.ones(4, dtype=torch.float64))
