# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Episode protocol core, state estimator and simulated car (no ROS)."""

import dataclasses
import math

import pytest
from racecar_rl_env.episode import (check_state, EnvNodeConfig, Episode, SafetyAbort,
                                    steering_and_throttle)
from racecar_rl_env.sim_backend import RacecarSimBackend
from racecar_rl_env.state_estimator import (PoseVelocityEstimator, quaternion_from_yaw,
                                            yaw_from_quaternion)
from racecar_rl_env.task import default_config, ParkingTask
import torch


def test_episode_uses_the_shared_task_definition():
    cfg = dataclasses.replace(default_config(), episode_steps=3)
    ep = Episode(cfg, episode_id=1)
    obs = ep.start([1.0, 0.0, math.pi, 0, 0, 0])
    assert len(obs) == 45
    r = ep.step([0.0, 0.5], [0.9, 0.0, math.pi, 0.3, 0, 0])
    task = ParkingTask(cfg)
    terms = task.reward_terms(torch.tensor([[1.0, 0, math.pi, 0, 0, 0]]),
                              torch.tensor([[0.9, 0, math.pi, 0.3, 0, 0]]),
                              torch.tensor([[0.0, 0.5]]))
    assert r.reward == pytest.approx(float(task.reward(terms)[0][0]))
    assert r.obs == obs and not r.done and r.step_id == 0
    ep.step([0, 0], [0.5, 0.0, math.pi, 0.3, 0, 0])
    last = ep.step([0, 0], [0.2, 0.0, math.pi, 0.0, 0, 0])
    assert last.truncated and not last.terminated and ep.success
    with pytest.raises(RuntimeError):
        ep.step([0, 0], [0.2, 0.0, math.pi, 0.0, 0, 0])


def test_leaving_the_arena_terminates():
    ep = Episode(default_config(), 1)
    ep.start([3.8, 0, 0, 0, 0, 0])
    r = ep.step([0, 1], [4.0, 0, 0, 1.0, 0, 0])
    assert r.terminated and not r.truncated and not ep.success


def test_safety_checks_name_the_problem():
    with pytest.raises(SafetyAbort, match='non_finite_observation: vx=nan'):
        check_state([0, 0, 0, float('nan'), 0, 0])
    with pytest.raises(SafetyAbort, match='non_finite_action'):
        steering_and_throttle([float('inf'), 0], 0.6, 0.4)
    assert steering_and_throttle([2.0, -0.5], 0.6, 0.4) == (0.6, -0.2)


def test_env_node_config_refuses_out_of_range():
    with pytest.raises(ValueError, match='action_timeout_s.*out of range'):
        EnvNodeConfig(action_timeout_s=0.0)


def test_velocity_estimator_recovers_body_velocity():
    est = PoseVelocityEstimator(smoothing=1.0)
    yaw = 0.7
    for i in range(5):
        t = 0.01 * i
        state = est.update(t, 2.0 * t * math.cos(yaw), 2.0 * t * math.sin(yaw), yaw + 0.5 * t)
    # The car moves along the fixed direction ``yaw`` while its heading turns at 0.5 rad/s.
    assert state[3] == pytest.approx(2.0 * math.cos(0.5 * 0.04), rel=1e-3)
    assert state[4] == pytest.approx(-2.0 * math.sin(0.5 * 0.04), rel=1e-3)
    assert state[5] == pytest.approx(0.5, rel=1e-3)
    assert yaw_from_quaternion(*quaternion_from_yaw(-2.5)) == pytest.approx(-2.5)


def test_sim_backend_applies_commands_after_the_delay():
    car = RacecarSimBackend('kinematic', command_delay_s=0.05)
    start = car.pose()
    car.set_command(0.0, 0.4)
    for _ in range(4):
        car.advance(0.01)
    assert car.pose() == pytest.approx(start)  # command not yet in force
    for _ in range(20):
        car.advance(0.01)
    assert car.pose()[0] < start[0]  # facing -x, driving forward
    car.reset()
    assert car.pose() == pytest.approx((1.42, -1.04, math.pi))
