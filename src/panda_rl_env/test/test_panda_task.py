# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The Panda pick task alone: config, actions, progress-only reward, safety, bad input."""

import math

from panda_rl_env import model
from panda_rl_env.task import (MEASUREMENT_DIM, PandaMeasurement, PandaPickConfig,
                               PandaPickTask, POTENTIALS, SLICES)
import pytest
from rl_core.episode import Episode
from rl_core.task import SafetyAbort
import torch


def measurement(tip=model.HOME_TIP, cube=(0.661, -0.05, model.CUBE_HALF), vel=(0, 0, 0),
                fingers=(0.04, 0.04), seen=1.0):
    state = torch.zeros(1, MEASUREMENT_DIM)
    state[0, SLICES['tip']] = torch.tensor(tip)
    state[0, SLICES['tip_vel']] = torch.tensor(vel, dtype=torch.float32)
    state[0, SLICES['cube']] = torch.tensor(cube)
    state[0, SLICES['fingers']] = torch.tensor(fingers)
    state[0, SLICES['cube_seen']] = seen
    return PandaMeasurement(state, torch.zeros(1, 1, 64, 64, dtype=torch.uint8))


def test_config_refuses_bad_values_by_name():
    with pytest.raises(ValueError, match='workspace_low'):
        PandaPickConfig(workspace_low=(0.8, -0.3, 0.02))
    with pytest.raises(ValueError, match='lift_height'):
        PandaPickConfig(lift_height=-0.01)
    with pytest.raises(ValueError, match='home'):
        PandaPickConfig(home=(0.6, 0.0))
    with pytest.raises(ValueError, match='reward_scales'):
        PandaPickTask(PandaPickConfig(reward_scales={'reach': 1.0}))


def test_actions_move_the_equilibrium_5mm_per_unit_in_y_and_z_only():
    task = PandaPickTask()
    home = torch.tensor([model.HOME_TIP])
    out = task.next_target(home, home, torch.tensor([[1.0, -0.5, 1.0]]))
    assert torch.allclose(out, home + torch.tensor([[0.0, 0.005, -0.0025]]), atol=1e-7)
    # x stays at home whatever the target was; y/z clipped to the workspace ...
    out = task.next_target(torch.tensor([[0.5, 0.319, 0.021]]), torch.tensor([[0.5, 0.32,
                                                                               0.02]]),
                           torch.tensor([[1.0, -1.0, 0.0]]))
    assert out[0].tolist() == pytest.approx([model.HOME_TIP[0], 0.32, 0.02], abs=1e-6)
    # ... and to max_lag around the measured tip (no wind-up against an obstacle)
    target = torch.tensor([[0.661, 0.0, 0.06]])
    tip = torch.tensor([[0.661, 0.0, 0.03]])
    out = task.next_target(target, tip, torch.tensor([[0.0, 1.0, 0.0]]))
    assert float(out[0, 2]) == pytest.approx(0.03 + task.config.max_lag, abs=1e-6)
    cmd = task.action_to_command([0.4, -1.0, 0.2])
    assert cmd == pytest.approx({'dy': 0.002, 'dz': -0.005, 'gripper': 0.2,
                                 'gripper_close': 1.0})
    assert task.command_to_action(cmd)[0].tolist() == pytest.approx([0.4, -1.0, 0.2])
    assert task.command_to_action({'dy': 0.0, 'dz': 0.0, 'gripper_close': 0.0})[0, 2] == -1.0


def test_reward_is_progress_only_and_its_terms_add_up():
    task = PandaPickTask()
    cube = (0.661, -0.05, model.CUBE_HALF)
    ep = Episode(task, 1)
    ep.start(measurement(tip=(0.661, -0.05, 0.15), cube=cube))
    a = [0.0, -1.0, -1.0]
    closer = ep.step(a, measurement(tip=(0.661, -0.05, 0.10), cube=cube))
    assert closer.reward > 0.0
    back = ep.step(a, measurement(tip=(0.661, -0.05, 0.14), cube=cube))
    assert back.reward == 0.0  # moving away is not punished ...
    again = ep.step(a, measurement(tip=(0.661, -0.05, 0.10), cube=cube))
    assert again.reward == pytest.approx(0.0, abs=1e-6)  # ... and regaining it is not paid
    better = ep.step(a, measurement(tip=(0.661, -0.05, 0.08), cube=cube))
    reach = lambda d: 1 - math.tanh(task.config.reach_sharpness * d)  # noqa: E731
    assert better.reward == pytest.approx(reach(0.08 - 0.025) - reach(0.10 - 0.025), rel=1e-4)
    for step in (closer, back, again, better):
        assert sum(step.reward_terms.values()) == pytest.approx(step.reward, abs=1e-6)
    assert back.reward_terms['clip_to_zero'] > 0.0
    # lifting the held cube to the target height pays lift and success once
    held = (0.661, -0.05, model.CUBE_HALF + task.config.lift_height)
    lifted = ep.step(a, measurement(tip=held, cube=held, fingers=(0.025, 0.025)))
    assert lifted.reward_terms['success'] == pytest.approx(task.config.reward_scales['success'])
    assert lifted.reward_terms['lift'] == pytest.approx(task.config.reward_scales['lift'])
    # ... and ends the episode there: a terminal state, reason 'success'
    assert lifted.terminated and not lifted.truncated and lifted.reason == 'success'
    assert ep.success and ep.ended
    assert bool(task.success(measurement(tip=held, cube=held))[0])
    # a cube lifted but not between the fingers (knocked up) is no success
    assert not bool(task.success(measurement(tip=(0.661, 0.05, 0.2), cube=held))[0])
    assert POTENTIALS == ('reach', 'lift', 'no_floor_collision', 'success')


def test_without_end_on_success_the_lift_is_judged_when_the_time_is_up():
    task = PandaPickTask(PandaPickConfig(end_on_success=False, episode_steps=2))
    held = (0.661, -0.05, model.CUBE_HALF + task.config.lift_height)
    ep = Episode(task, 1)
    ep.start(measurement())
    lifted = ep.step([0.0, 1.0, 1.0], measurement(tip=held, cube=held, fingers=(0.025, 0.025)))
    assert not lifted.done and lifted.reward > 0.0
    dropped = ep.step([0.0, 1.0, -1.0], measurement(tip=held))
    assert dropped.truncated and dropped.reason == 'time_limit' and not ep.success


def test_unseen_cube_gives_no_reach_and_floor_collision_costs_its_potential():
    task = PandaPickTask()
    seen = task.potentials(measurement(tip=(0.661, -0.05, 0.03)))
    unseen = task.potentials(measurement(tip=(0.661, -0.05, 0.03), seen=0.0))
    assert float(seen[0, 0]) > 0.5 and float(unseen[0, 0]) == 0.0
    floor = task.potentials(measurement(tip=(0.661, -0.05, 0.005)))
    assert float(floor[0, 2]) == 0.0 and float(seen[0, 2]) == 1.0


def test_safety_limits_name_the_axis_and_the_speed():
    task = PandaPickTask()
    far = measurement(tip=(0.661, -0.05 + 0.31, 0.179))
    assert task.safety_violation(far).startswith('workspace: tip 0.310 m from home along y')
    assert bool(task.terminated(far)[0])
    fast = measurement(vel=(0.0, 0.4, 0.4))
    assert task.safety_violation(fast).startswith('tip_speed: 0.566 m/s > 0.5')
    assert task.safety_violation(measurement()) == ''
    ep = Episode(task, 1)
    ep.start(measurement())
    # the env node aborts the episode with that reason (and stops the robot)
    with pytest.raises(SafetyAbort, match='^workspace: tip 0.310 m from home along y'):
        ep.step([0.0, 0.0, 0.0], far)


def test_bad_measurements_are_refused_with_a_specific_reason():
    task = PandaPickTask()
    bad = measurement(cube=(0.661, float('nan'), 0.025))
    with pytest.raises(SafetyAbort, match=r'non_finite_observation: cube\[y\]=nan'):
        task.check_measurement(bad)
    wrong = measurement()
    wrong.pixels = torch.zeros(1, 1, 48, 64, dtype=torch.uint8)
    with pytest.raises(SafetyAbort, match=r'bad_image: .*\(1, 64, 64\) uint8, got \(1, 48, 64\)'):
        task.check_measurement(wrong)
    wrong.pixels = torch.zeros(1, 1, 64, 64)
    with pytest.raises(SafetyAbort, match='bad_image'):
        task.check_measurement(wrong)


def test_history_state_has_tip_fingers_and_last_five_gripper_commands():
    task = PandaPickTask()
    hist = task.new_history(1)
    m = measurement(fingers=(0.02, 0.02))
    hist.reset(m)
    for g in (1.0, 1.0, -1.0):
        hist.push(m, torch.tensor([[0.0, 0.0, g]]))
    state = hist.state()[0].tolist()
    assert state[:3] == pytest.approx(list(model.HOME_TIP))
    assert state[3:5] == pytest.approx([0.5, 0.5])
    assert state[5:] == [-1.0, -1.0, 1.0, 1.0, -1.0]
    assert hist.observation().pixels.shape == (1, 1, 64, 64)
