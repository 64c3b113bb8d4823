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
