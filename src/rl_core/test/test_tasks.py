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


def test_success_ends_the_episode_only_where_the_task_says_so():
    """A pick ends at success (terminal, reason 'success'); parking judges the last state."""
    from rl_core.simulator import task_step

    class Fenced(toy_robot.ToyTask):
        def terminated(self, m):
            return m[:, 0] > 1.5

    class Pick(Fenced):
        def success_ends_episode(self):
            return True

    # x = 0.0 (solved), 1.0 (running), 1.6 (broken limit and, with steps, the time limit)
    m = torch.tensor([[0.0], [1.0], [1.6]])
    # per (steps, task): the expected terminated, truncated and success of the 3 robots
    cases = ((3, {'park': ([0, 0, 1], [0, 0, 0], [0, 0, 0]),
                  'pick': ([1, 0, 1], [0, 0, 0], [1, 0, 0])}),
             (20, {'park': ([0, 0, 1], [1, 1, 0], [1, 0, 0]),
                   'pick': ([1, 0, 1], [0, 1, 0], [1, 0, 0])}))
    for steps, expect in cases:
        for name, cls in (('park', Fenced), ('pick', Pick)):
            terminated, truncated, success, failed = cls().episode_end(m, steps)
            want = [torch.tensor(v, dtype=torch.bool) for v in expect[name]]
            assert torch.equal(terminated, want[0]), (name, steps)
            assert torch.equal(truncated, want[1]), (name, steps)
            assert torch.equal(success, want[2]), (name, steps)
            assert torch.equal(failed, torch.tensor([False, False, True]))

    # the episode protocol of the env node: reason 'success', a terminal step
    for cls, reason, terminated in ((Pick, 'success', True), (Fenced, '', False)):
        ep = Episode(cls(), 1)
        ep.start(torch.tensor([[0.5]]))
        result = ep.step([-1.0], torch.tensor([[0.02]]))
        assert result.reason == reason and result.terminated == terminated
        assert ep.success == terminated and ep.ended == terminated

    # the vector simulators' step (shared by the Panda and the Go1)
    task = Pick()
    history = task.new_history(3)
    returns = torch.zeros(3)
    _, terminated, truncated, info = task_step(task, history, m, m, torch.zeros(3, 1),
                                               torch.tensor([3, 3, 3]), returns)
    assert terminated.tolist() == [True, False, True] and not truncated.any()
    assert info['success'].tolist() == [True, False, False]
    assert info['episode_done'].tolist() == [True, False, True]
