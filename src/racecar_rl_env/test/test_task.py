# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The parking task: reward terms, termination, observation layout, config validation."""

import dataclasses
import math

import pytest
from racecar_rl_env.task import (default_config, ObservationHistory, ParkingTask,
                                 ParkingTaskConfig)
import torch


def test_reward_terms_on_hand_examples():
    task = ParkingTask()
    prev = torch.tensor([[1.0, 0.0, 0, 0, 0, 0], [0.3, 0.4, 0, 0, 0, 0]])
    state = torch.tensor([[0.6, 0.0, 0, 0, 0, 0], [0.6, 0.8, 0, 0, 0, 0]])
    action = torch.tensor([[0.6, 0.8], [0.0, 0.0]])
    terms = task.reward_terms(prev, state, action)
    assert terms['distance_progress'].tolist() == pytest.approx([0.4, -0.5])
    assert terms['goal_bonus'].tolist() == [0.0, 0.0]
    assert terms['action_magnitude'].tolist() == pytest.approx([1.0, 0.0])
    total, scaled = task.reward(terms)
    assert total.tolist() == pytest.approx([0.4 - 0.01, -0.5])
    assert set(scaled) == set(ParkingTask.REWARD_TERMS)
    inside = torch.tensor([[0.2, 0.2, 0, 0, 0, 0]])
    assert task.reward_terms(inside, inside, torch.zeros(1, 2))['goal_bonus'].item() == 1.0


def test_arena_bounds_include_margin():
    task = ParkingTask()
    assert task.arena == pytest.approx((-0.585, 3.9, -2.73, 1.95))
    states = torch.tensor([[3.8, 0, 0, 0, 0, 0], [4.0, 0, 0, 0, 0, 0], [0, -2.8, 0, 0, 0, 0]])
    assert task.terminated(states).tolist() == [False, True, True]
    assert task.termination_reason(states[1:2]) == 'out_of_arena'
    assert task.terminated(torch.tensor([[0.0, float('nan'), 0, 0, 0, 0]])).tolist() == [True]


def test_observation_layout_and_history():
    task = ParkingTask()
    hist = ObservationHistory(task, 1)
    s0 = torch.tensor([[1.42, -1.04, math.pi, 0, 0, 0]])
    hist.reset(s0)
    obs = hist.state()
    assert obs.shape == (1, default_config().obs_dim) == (1, 45)
    assert task.observation_spec.state_dim == 45 and not task.observation_spec.has_pixels
    assert hist.observation().pixels is None
    assert torch.allclose(obs[0, :7], obs[0, 28:35])
    assert obs[0, 35:].abs().sum() == 0
    s1 = torch.tensor([[1.0, -1.0, 0.0, 0.5, 0.1, 0.2]])
    hist.push(s1, torch.tensor([[0.3, -0.7]]))
    obs = hist.state()
    assert obs[0, 28:35].tolist() == pytest.approx([1.0, -1.0, 0.0, 1.0, 0.5, 0.1, 0.2])
    assert obs[0, 43:45].tolist() == pytest.approx([0.3, -0.7])


@pytest.mark.parametrize('field,value,match', [
    ('episode_steps', 0, 'episode_steps'), ('goal_radius', -1.0, 'goal_radius'),
    ('action_delay_steps', 3, 'action_delay_steps'), ('arena_x', (3.0, -1.0), 'arena_x'),
    ('reward_scales', {'distance_progress': 1.0, 'goal_bonus': 1.0}, 'missing'),
    ('reward_scales', {'distance_progress': 1.0, 'goal_bonus': 1.0, 'action_magnitude': -0.01,
                       'speed': 1.0}, 'unknown'),
])
def test_invalid_config_refused(field, value, match):
    with pytest.raises(ValueError, match=match):
        ParkingTask(dataclasses.replace(default_config(), **{field: value}))


def test_action_calibration_round_trip():
    task = ParkingTask()
    cmd = task.action_to_command([0.5, -2.0])
    assert cmd == pytest.approx({'steering_angle': 0.3, 'throttle': -0.4})
    assert task.command_to_action(cmd)[0].tolist() == pytest.approx([0.5, -1.0])
    assert task.action_delay_s == pytest.approx(1 / 30)
    assert task.to_run_info()['task'] == 'racecar_parking'


def test_config_factory_returns_fresh_objects():
    a, b = default_config(), default_config()
    a.reward_scales['goal_bonus'] = 5.0
    assert b.reward_scales['goal_bonus'] == 1.0
    assert isinstance(a, ParkingTaskConfig)
