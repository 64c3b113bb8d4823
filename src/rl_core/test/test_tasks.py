# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Every registered task: its simulator resets and steps with the declared shapes."""

import math
import pathlib
import sys

import pytest
from rl_core import registry
from rl_core.episode import Episode
from rl_core.simulator import INFO_KEYS
from rl_core.task import split_observation
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / 'fixtures' / 'toy_robot'))
import toy_robot  # noqa: E402  (a task added outside the workspace, loaded by object)

PLUGINS = {name: registry.load(name) for name in registry.names()}
PLUGINS['toy_point'] = toy_robot.PLUGIN
PLUGINS['toy_pixels'] = toy_robot.PIXEL_PLUGIN


@pytest.mark.parametrize('name', sorted(PLUGINS))
def test_simulator_resets_and_steps_with_the_declared_shapes(name):
    plugin = PLUGINS[name]
    task = plugin.make_task()
    spec = task.observation_spec
    n = 4
    env = plugin.make_simulator(task, n, seed=0)
    obs, _ = env.reset(seed=0)
    state, pixels = split_observation(obs)
    assert state.shape == (n, spec.state_dim) and state.dtype == torch.float32
    if spec.has_pixels:
        assert pixels.shape == (n, *spec.pixel_shape) and pixels.dtype == torch.uint8
    else:
        assert pixels is None
    g = torch.Generator().manual_seed(0)
    for _ in range(min(task.episode_steps, 30) + 1):
        action = torch.rand(n, task.action_spec.dim, generator=g) * 2 - 1
        obs, reward, terminated, truncated, info = env.step(action)
        state, _ = split_observation(obs)
        assert torch.isfinite(state).all() and torch.isfinite(reward).all()
        assert reward.shape == terminated.shape == truncated.shape == (n,)
        assert set(info['reward_terms']) == set(task.REWARD_TERMS)
        total = sum(info['reward_terms'].values())
        assert torch.allclose(total, reward, atol=1e-5)
        assert set(INFO_KEYS) <= set(info)
    assert task.control_hz > 0 and task.episode_steps >= 1
    assert set(task.OVERRIDABLE) <= set(task.config.__dataclass_fields__)


@pytest.mark.parametrize('name', sorted(PLUGINS))
def test_episode_protocol_runs_the_task_from_its_start_states(name):
    task = PLUGINS[name].make_task()
    start = task.start_measurements(1, torch.Generator().manual_seed(0))
    ep = Episode(task, 1)
    obs = ep.start(start)
    assert obs.state.shape == (1, task.observation_spec.state_dim)
    spec = task.observation_spec
    assert (obs.pixels is None) == (not spec.has_pixels)
    if spec.has_pixels:
        assert obs.pixels.shape == (1, *spec.pixel_shape) and obs.pixels.dtype == torch.uint8
    result = ep.step([0.0] * task.action_spec.dim, start)
    assert set(result.reward_terms) == set(task.REWARD_TERMS)
    assert math.isfinite(result.reward)
    cmd = task.action_to_command([0.5] * task.action_spec.dim)
    back = task.command_to_action(cmd)
    assert back.shape == (1, task.action_spec.dim)
    assert torch.allclose(back, torch.full_like(back, 0.5), atol=1e-6)


def test_a_task_safety_limit_aborts_the_episode():
    from rl_core.task import SafetyAbort

    class Fenced(toy_robot.ToyTask):
        def safety_violation(self, m):
            x = float(m[0, 0])
            return f'fence: x={x:.2f} > 1.5' if x > 1.5 else ''
    ep = Episode(Fenced(), 1)
    ep.start(torch.tensor([[1.0]]))
    assert not ep.step([1.0], torch.tensor([[1.4]])).done
    with pytest.raises(SafetyAbort, match=r'fence: x=1.60 > 1.5'):
        ep.step([1.0], torch.tensor([[1.6]]))
