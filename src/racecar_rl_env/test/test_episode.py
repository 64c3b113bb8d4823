# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The generic episode protocol on the car's task, state estimator and simulated car."""

import dataclasses
import math

import pytest
from racecar_rl_env.sim_backend import RacecarSimBackend
from racecar_rl_env.state_estimator import (PoseVelocityEstimator, quaternion_from_yaw,
                                            yaw_from_quaternion)
from racecar_rl_env.task import default_config, ParkingTask
from rl_core.episode import check_action, Episode
from rl_core.task import SafetyAbort
import torch


def state(*values):
    return torch.tensor([values], dtype=torch.float32)


def test_episode_uses_the_shared_task_definition():
    task = ParkingTask(dataclasses.replace(default_config(), episode_steps=3))
    ep = Episode(task, episode_id=1)
    obs = ep.start(state(1.0, 0.0, math.pi, 0, 0, 0))
    assert obs.state.shape == (1, 45) and obs.pixels is None
    r = ep.step([0.0, 0.5], state(0.9, 0.0, math.pi, 0.3, 0, 0))
    terms = task.reward_terms(state(1.0, 0, math.pi, 0, 0, 0), state(0.9, 0, math.pi, 0.3, 0, 0),
                              torch.tensor([[0.0, 0.5]]))
    assert r.reward == pytest.approx(float(task.reward(terms)[0][0]))
    assert sum(r.reward_terms.values()) == pytest.approx(r.reward)
    assert torch.equal(r.obs.state, obs.state) and not r.done and r.step_id == 0
    ep.step([0, 0], state(0.5, 0.0, math.pi, 0.3, 0, 0))
    last = ep.step([0, 0], state(0.2, 0.0, math.pi, 0.0, 0, 0))
    assert last.truncated and not last.terminated and ep.success
    assert last.reason == 'time_limit'
    metrics = ep.metrics()
    assert set(metrics) == {'reward/distance_progress', 'reward/goal_bonus',
                            'reward/action_magnitude', 'final_distance'}
    assert metrics['final_distance'] == pytest.approx(0.2)
    assert sum(v for k, v in metrics.items() if k.startswith('reward/')) == pytest.approx(
        ep.episode_return)
    with pytest.raises(RuntimeError):
        ep.step([0, 0], state(0.2, 0.0, math.pi, 0.0, 0, 0))


def test_leaving_the_arena_terminates():
    ep = Episode(ParkingTask(), 1)
    ep.start(state(3.8, 0, 0, 0, 0, 0))
    r = ep.step([0, 1], state(4.0, 0, 0, 1.0, 0, 0))
    assert r.terminated and not r.truncated and not ep.success
    assert r.reason == 'out_of_arena'


def test_safety_checks_name_the_problem():
    task = ParkingTask()
    with pytest.raises(SafetyAbort, match='non_finite_observation: vx=nan'):
        task.check_measurement(state(0, 0, 0, float('nan'), 0, 0))
    with pytest.raises(SafetyAbort, match='non_finite_action'):
        check_action([float('inf'), 0], 2)
    with pytest.raises(SafetyAbort, match='invalid_action: 3 values, the task has 2'):
        check_action([0.0, 0.0, 0.0], 2)
    assert check_action([2.0, -0.5], 2).tolist() == [[1.0, -0.5]]
    assert task.action_to_command([2.0, -0.5]) == pytest.approx(
        {'steering_angle': 0.6, 'throttle': -0.2})


def test_velocity_estimator_recovers_body_velocity():
    est = PoseVelocityEstimator(smoothing=1.0)
    yaw = 0.7
    for i in range(5):
        t = 0.01 * i
        s = est.update(t, 2.0 * t * math.cos(yaw), 2.0 * t * math.sin(yaw), yaw + 0.5 * t)
    # The car moves along the fixed direction ``yaw`` while its heading turns at 0.5 rad/s.
    assert s[3] == pytest.approx(2.0 * math.cos(0.5 * 0.04), rel=1e-3)
    assert s[4] == pytest.approx(-2.0 * math.sin(0.5 * 0.04), rel=1e-3)
    assert s[5] == pytest.approx(0.5, rel=1e-3)
    assert yaw_from_quaternion(*quaternion_from_yaw(-2.5)) == pytest.approx(-2.5)


def test_sim_backend_applies_commands_after_the_task_delay():
    # The delay comes from the task (one control period at 30 Hz), never a second setting.
    task = ParkingTask(dataclasses.replace(default_config(), start_noise=(0.0, 0.0, 0.0)))
    car = RacecarSimBackend(task, 'nominal')
    assert car.command_delay_s == pytest.approx(1 / 30)
    start = car.pose()
    assert start == pytest.approx((1.42, -1.04, math.pi))
    car.set_command(0.0, 0.4)
    for _ in range(3):
        car.advance(0.01)
    assert car.pose() == pytest.approx(start)  # command not yet in force
    for _ in range(20):
        car.advance(0.01)
    assert car.pose()[0] < start[0]  # facing -x, driving forward
    car.reset()
    assert car.pose() == pytest.approx((1.42, -1.04, math.pi))


def test_sim_backend_real_variant_is_the_shifted_car():
    car = RacecarSimBackend(ParkingTask(), 'real')
    assert car.model == 'pacejka' and car.overrides['angle_offset'] == pytest.approx(0.08)


def test_speed_limit_aborts_on_the_robot():
    task = ParkingTask()
    ep = Episode(task, 1)
    ep.start(state(1.0, 0.0, 0, 0, 0, 0))
    with pytest.raises(SafetyAbort, match=r'speed_limit: 6.50 m/s > 6 m/s'):
        ep.step([0, 1], state(1.1, 0.0, 0, 6.5, 0, 0))
    # A safety limit of the robot, not part of the MDP: simulators do not terminate on it.
    assert task.terminated(state(1.1, 0.0, 0, 6.5, 0, 0)).tolist() == [False]
    assert bool(task.over_speed(state(1.1, 0.0, 0, 6.5, 0, 0))[0])
