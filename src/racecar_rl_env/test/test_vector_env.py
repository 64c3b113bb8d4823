# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The torch vector env: shapes, autoreset, action delay, determinism, solvability."""

import pytest
from racecar_rl_env.vector_env import RacecarParkingVectorEnv
import torch

# The simulator variants with the dynamics model each test is about (randomised).
VARIANT = {'kinematic': 'sim', 'pacejka': 'pacejka'}


@pytest.mark.parametrize('model', ['kinematic', 'pacejka'])
def test_random_rollout_shapes_and_finite(model):
    env = RacecarParkingVectorEnv(None, 64, variant=VARIANT[model], seed=0)
    obs, _ = env.reset(seed=0)
    g = torch.Generator().manual_seed(0)
    ends = 0
    for _ in range(300):
        obs, reward, terminated, truncated, info = env.step(torch.rand(64, 2, generator=g) * 2 - 1)
        assert obs.shape == (64, 45) and reward.shape == (64,)
        assert torch.isfinite(obs).all() and torch.isfinite(reward).all()
        assert not (terminated & truncated).any()
        ends += int(info['episode_done'].sum())
    assert ends >= 64  # every env finished at least one episode (250-step limit)
    assert env.single_observation_space.shape == (45,)
    assert env.action_space.shape == (64, 2)


def test_autoreset_returns_first_obs_and_final_obs_in_info():
    env = RacecarParkingVectorEnv(None, 2, variant='nominal', seed=1)
    env.reset(seed=1)
    for i in range(250):
        obs, _, terminated, truncated, info = env.step(torch.zeros(2, 2))
    assert truncated.all() and not terminated.any()
    assert info['episode_done'].all()
    assert not torch.equal(info['final_obs'], obs)
    assert torch.equal(obs[:, 0:7], obs[:, 28:35])  # fresh stack: all frames equal
    assert env.steps.eq(0).all()


def test_one_step_action_delay():
    env = RacecarParkingVectorEnv(None, 1, variant='nominal', seed=0)
    env.reset(seed=0)
    start = env.state.clone()
    env.step(torch.tensor([[0.0, 1.0]]))
    assert torch.allclose(env.state, start)  # first step applies the zero action
    env.step(torch.tensor([[0.0, 0.0]]))
    assert env.state[0, 3] > 0  # the full-throttle command arrives one step late


def test_seeded_runs_are_identical():
    def run():
        env = RacecarParkingVectorEnv(None, 8, variant='pacejka', seed=3)
        obs, _ = env.reset(seed=3)
        for _ in range(40):
            obs, *_ = env.step(torch.sin(obs[:, :2]))
        return obs
    assert torch.equal(run(), run())


@pytest.mark.parametrize('model,min_success', [('kinematic', 0.95), ('pacejka', 0.85)])
def test_task_is_solvable_by_a_scripted_controller(model, min_success):
    env = RacecarParkingVectorEnv(None, 100, variant=VARIANT[model], randomize=True, seed=1)
    env.reset(seed=1)
    finished = torch.zeros(100, dtype=torch.bool)
    success = torch.zeros(100, dtype=torch.bool)
    for _ in range(250):
        s = env.state
        bearing = torch.atan2(-s[:, 1], -s[:, 0])
        err = torch.atan2(torch.sin(bearing - s[:, 2]), torch.cos(bearing - s[:, 2]))
        dist = torch.hypot(s[:, 0], s[:, 1])
        target_speed = dist.clamp(max=1.0) * (dist > 0.15)
        action = torch.stack([(err / 0.5).clamp(-1, 1),
                              ((target_speed - s[:, 3]) * 2).clamp(-1, 1)], 1)
        _, _, _, _, info = env.step(action)
        done = info['episode_done'] & ~finished
        success |= done & info['success']
        finished |= done
    assert finished.all()
    assert success.float().mean() >= min_success


def test_invalid_arguments_refused():
    with pytest.raises(ValueError, match='num_envs'):
        RacecarParkingVectorEnv(None, 0)
    with pytest.raises(ValueError, match='model'):
        RacecarParkingVectorEnv(None, 1, variant={'model': 'unicycle'})
    with pytest.raises(ValueError, match="unknown car variant 'moon'"):
        RacecarParkingVectorEnv(None, 1, variant='moon')
    with pytest.raises(ValueError, match='unknown car parameter'):
        RacecarParkingVectorEnv(None, 1, variant='real', param_overrides={'wings': 2})
