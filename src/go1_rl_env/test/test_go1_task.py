# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The Go1 joystick task and its batched simulator."""

from go1_rl_env import model
from go1_rl_env.task import field, Go1JoystickConfig, Go1JoystickTask, gravity_from_quat, \
    MEASUREMENT_DIM, SLICES
from go1_rl_env.variants import RANDOMIZATION
from go1_rl_env.vector_env import Go1JoystickVectorEnv
import numpy as np
import pytest
from rl_core import config_spec
import torch


def standing(task, n=1):
    return task.start_measurements(n, torch.Generator().manual_seed(0))


def test_observation_layout_is_the_published_48():
    task = Go1JoystickTask()
    m = standing(task, 2)
    m[:, SLICES['linvel']] = torch.tensor([0.1, 0.2, 0.3])
    m[:, SLICES['command']] = torch.tensor([1.0, -0.5, 0.25])
    hist = task.new_history(2)
    hist.reset(m)
    action = torch.full((2, 12), 0.5)
    hist.push(m, action)
    obs = hist.state()
    assert obs.shape == (2, 48) and task.observation_spec.state_dim == 48
    np.testing.assert_allclose(obs[0, 0:3], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(obs[0, 6:9], [0.0, 0.0, -1.0])
    np.testing.assert_allclose(obs[0, 9:21], field(m, 'q')[0] - task.q0, atol=1e-6)
    np.testing.assert_allclose(obs[0, 33:45], 0.5)
    np.testing.assert_allclose(obs[0, 45:48], [1.0, -0.5, 0.25])
    noisy = task.new_history(2, noise=True, generator=torch.Generator().manual_seed(1))
    noisy.reset(m)
    noisy_obs = noisy.state()
    assert not torch.equal(noisy_obs[:, :33], obs[:, :33])
    assert (noisy_obs[:, 0:3] - obs[:, 0:3]).abs().max() <= task.config.obs_noise[0] + 1e-6


def test_gravity_from_quaternion():
    up = gravity_from_quat(torch.tensor([[1.0, 0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(up[0], [0, 0, -1], atol=1e-6)
    flipped = gravity_from_quat(torch.tensor([[0.0, 1.0, 0.0, 0.0]]))  # 180 deg about x
    np.testing.assert_allclose(flipped[0], [0, 0, 1], atol=1e-6)


def test_reward_terms_tracking_clipping_and_action_rate():
    task = Go1JoystickTask()
    prev = standing(task)
    m = prev.clone()
    m[:, SLICES['command']] = torch.tensor([1.0, 0.0, 0.5])
    m[:, SLICES['linvel']] = torch.tensor([1.0, 0.0, 0.0])
    m[:, SLICES['gyro']] = torch.tensor([0.0, 0.0, 0.5])
    terms = task.reward_terms(prev, m, torch.zeros(1, 12))
    assert float(terms['tracking_lin_vel']) == pytest.approx(1.0)
    assert float(terms['tracking_ang_vel']) == pytest.approx(1.0)
    m[:, SLICES['linvel']] = torch.tensor([0.5, 0.0, 0.0])
    terms = task.reward_terms(prev, m, torch.zeros(1, 12))
    assert float(terms['tracking_lin_vel']) == pytest.approx(np.exp(-0.25 / 0.25), rel=1e-5)
    m2 = m.clone()
    m2[:, SLICES['q_target']] += 0.5 * 0.2     # 0.2 in action units on every joint
    terms = task.reward_terms(m, m2, torch.zeros(1, 12))
    assert float(terms['action_rate']) == pytest.approx(12 * 0.04, rel=1e-4)
    total, scaled = task.reward(terms)
    assert float(total) == pytest.approx(sum(float(v) for v in scaled.values()), abs=1e-7)
    assert float(scaled['clip_to_zero']) == 0.0 and float(total) > 0
    # scaled terms are multiplied by the 0.02 s control period
    assert float(scaled['tracking_lin_vel']) == pytest.approx(
        0.02 * float(terms['tracking_lin_vel']), rel=1e-6)
    bad = m.clone()
    bad[:, SLICES['gravity']] = torch.tensor([0.5, 0.0, -0.866])   # tilted 30 deg
    bad[:, SLICES['gyro']] = torch.tensor([3.0, 3.0, 0.5])         # rolling and pitching
    bad[:, SLICES['linvel']] = torch.tensor([-1.5, 0.8, 0.0])
    total, scaled = task.reward(task.reward_terms(prev, bad, torch.zeros(1, 12)))
    assert float(total) == 0.0 and float(scaled['clip_to_zero']) > 0
    assert float(sum(scaled.values())) == pytest.approx(0.0, abs=1e-7)


def test_flip_terminates_and_safety_limits_name_the_joint():
    task = Go1JoystickTask()
    m = standing(task)
    assert not bool(task.terminated(m)[0]) and task.safety_violation(m) == ''
    f = m.clone()
    f[:, SLICES['gravity']] = torch.tensor([0.0, 0.1, 0.99])
    assert bool(task.terminated(f)[0]) and task.termination_reason(f) == 'flipped'
    assert task.safety_violation(f).startswith('flipped')
    j = m.clone()
    j[0, SLICES['q'].start + 2] = -0.5          # FR calf beyond its -0.888 limit
    assert task.safety_violation(j).startswith('joint_limit: FR_calf_joint')
    t = m.clone()
    t[0, SLICES['tau'].start + 4] = 30.0        # FL thigh over 23.7 N m
    assert task.safety_violation(t).startswith('torque_limit: FL_thigh_joint')
    v = m.clone()
    v[0, SLICES['dq'].start + 7] = 40.0
    assert task.safety_violation(v).startswith('joint_velocity: RR_thigh_joint')
    n = m.clone()
    n[0, SLICES['dq'].start + 5] = float('nan')
    with pytest.raises(Exception, match='non_finite_observation: dq\\[FL_calf_joint\\]'):
        task.check_measurement(n)


def test_actions_are_joint_targets_around_the_default_pose():
    task = Go1JoystickTask()
    cmd = task.action_to_command(torch.zeros(12))
    assert list(cmd) == list(model.SDK_JOINT_NAMES)
    np.testing.assert_allclose(list(cmd.values()), model.DEFAULT_POSE, atol=1e-6)
    a = torch.tensor([[0.2, -0.4, 0.6] * 4])
    back = task.command_to_action(task.action_to_command(a[0]))
    np.testing.assert_allclose(back, a, atol=1e-5)
    # targets stay inside the joint ranges
    q = task.joint_targets(torch.ones(1, 12) * 5)
    assert bool((q <= task.high).all() and (q >= task.low).all())


def test_commands_are_sampled_in_range_and_resampled_every_5_s_on_average():
    task = Go1JoystickTask()
    g = torch.Generator().manual_seed(0)
    c = task.sample_commands(20000, g)
    assert torch.all(c.abs() <= torch.tensor([1.5, 0.8, 1.2]))
    assert torch.all(c.abs().amax(0) > torch.tensor([1.45, 0.75, 1.15]))
    # the published sampler: from zero, half the components are redrawn; a redrawn one is
    # non-zero with probability 0.9 / 0.25 / 0.5; after many resamplings that is the rate
    start = task.sample_commands(20000, g)
    np.testing.assert_allclose((start != 0).float().mean(0), [0.45, 0.125, 0.25], atol=0.02)
    for _ in range(30):
        c = task.sample_commands(20000, g, previous=c)
    np.testing.assert_allclose((c != 0).float().mean(0), [0.9, 0.25, 0.5], atol=0.02)
    kept = task.sample_commands(20000, g, previous=c)
    changed = (kept != c).float().mean(0)       # half the components are redrawn
    assert float(changed[0]) == pytest.approx(0.5 * (1 - 0.1 * 0.1), abs=0.02)
    assert bool((changed < 0.52).all())
    hits = sum(int(task.resample_mask(1000, g).sum()) for _ in range(500))
    mean_interval_s = 1000 * 500 / hits / task.control_hz
    assert 4.5 < mean_interval_s < 5.5
    with pytest.raises(ValueError, match='command_range'):
        config_spec.replace(Go1JoystickConfig(), command_range=(1.0, 2.0))


def test_vector_env_stands_with_zero_actions_and_autoresets_flips():
    env = Go1JoystickVectorEnv(num_envs=8, variant='nominal', seed=0)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (8, 48) and env.substeps == 5
    for _ in range(100):
        obs, reward, term, trunc, info = env.step(torch.zeros(8, 12))
        assert not bool(term.any())
        assert bool((reward >= 0).all()) and torch.isfinite(obs).all()
    assert (env.qpos[:, 2] > 0.2).all()
    assert set(info) >= {'final_obs', 'episode_done', 'success', 'episode_return',
                         'reward_terms', 'metrics'}
    # flip one robot: it terminates with reason 'flipped' and restarts upright
    env.qpos[3, 3:7] = [0.0, 1.0, 0.0, 0.0]
    env.qpos[3, 2] = 0.4
    obs, reward, term, trunc, info = env.step(torch.zeros(8, 12))
    assert bool(term[3]) and int(term.sum()) == 1 and bool(info['episode_done'][3])
    assert env.qpos[3, 3] > 0.99 and int(env.steps[3]) == 0
    assert float(info['final_obs'][3, 8]) > 0.5   # the last obs saw gravity pointing up


def test_randomization_stays_in_the_published_ranges_and_the_real_variant_is_shifted():
    env = Go1JoystickVectorEnv(num_envs=16, variant='sim', seed=3)
    env.reset(seed=3)
    friction = env.geom_friction[:, env.floor, 0]
    lo, hi = RANDOMIZATION['friction']
    assert (friction >= lo).all() and (friction <= hi).all() and friction.std() > 0.05
    trunk_mass = env.body_mass[:, env.trunk]
    assert (np.abs(trunk_mass - 5.204) <= 0.1 * 5.204 + 1.0 + 1e-9).all()
    com = env.body_ipos[:, env.trunk] - env.nominal['body_ipos'][env.trunk]
    assert (np.abs(com) <= RANDOMIZATION['torso_com_shift'] + 1e-12).all()
    real = Go1JoystickVectorEnv(num_envs=2, variant='real', seed=0)
    assert real.geom_friction[0, real.floor, 0] == pytest.approx(0.45)
    np.testing.assert_allclose(real.gainprm[0, :, 0], 35.0 * 0.85)
    np.testing.assert_allclose(real.forcerange[0, 2], [-35.55 * 0.85, 35.55 * 0.85])
    assert real.variant['latency_substeps'] == 2


def test_measurement_dim_and_field_names_match():
    task = Go1JoystickTask()
    assert len(task.MEASUREMENT_FIELDS) == MEASUREMENT_DIM == 84
    assert task.MEASUREMENT_FIELDS[SLICES['q'].start] == 'q[FR_hip_joint]'


def test_pose_stand_still_joint_limits_and_termination_terms():
    task = Go1JoystickTask()
    m = standing(task, 2)
    m[:, SLICES['q']] = task.q0
    m[0, SLICES['command']] = torch.tensor([0.0, 0.0, 0.0])
    m[1, SLICES['command']] = torch.tensor([1.0, 0.0, 0.0])
    terms = task.reward_terms(m, m.clone(), torch.zeros(2, 12))
    assert terms['pose'].tolist() == pytest.approx([1.0, 1.0])
    assert terms['stand_still'].tolist() == [0.0, 0.0]
    bent = m.clone()
    bent[:, SLICES['q'].start + 1] += 0.3        # FR thigh 0.3 rad off (weight 1)
    bent[:, SLICES['q'].start + 2] -= 1.0        # FR calf 1 rad off (weight 0.1)
    terms = task.reward_terms(m, bent, torch.zeros(2, 12))
    assert terms['pose'].tolist() == pytest.approx([np.exp(-0.09 - 0.1)] * 2, rel=1e-5)
    # stand_still only while the command is zero
    assert terms['stand_still'].tolist() == pytest.approx([1.3, 0.0], rel=1e-5)
    # FR calf at -2.8: inside its range [-2.818, -0.888], outside the 95 % soft range
    low, high = task.soft_limits()
    assert float(low[2]) == pytest.approx(-1.853 - 0.95 * 0.965, abs=1e-3)
    expected = [float(low[2]) + 2.8] * 2
    assert terms['dof_pos_limits'].tolist() == pytest.approx(expected, rel=1e-4)
    flip = m.clone()
    flip[1, SLICES['gravity']] = torch.tensor([0.0, 0.0, 1.0])
    assert task.reward_terms(m, flip, torch.zeros(2, 12))['termination'].tolist() == [0, 1]


def test_air_time_and_swing_height_are_paid_at_touch_down():
    task = Go1JoystickTask()
    m = standing(task)
    m[:, SLICES['command']] = torch.tensor([1.0, 0.0, 0.0])
    step = 1.0 / task.control_hz
    steps = 15                                   # FR in the air for 0.3 s, peak 0.1 m
    heights = [0.1 * np.sin(np.pi * (k + 1) / (steps + 1)) for k in range(steps)]
    got = []
    for k in range(steps + 1):
        nxt = m.clone()
        nxt[0, SLICES['foot_contact'].start] = 0.0 if k < steps else 1.0
        nxt[0, SLICES['foot_height'].start] = heights[k] if k < steps else 0.0
        got.append(task.reward_terms(m, nxt, torch.zeros(1, 12)))
        m = nxt
        if k < steps:
            assert float(field(m, 'air_time')[0, 0]) == pytest.approx((k + 1) * step)
    assert float(field(m, 'air_time')[0, 0]) == 0.0 and float(field(m, 'swing_peak')[0, 0]) == 0
    # nothing while in the air (the first step still counts as contact: the filter)
    assert all(float(t['feet_air_time']) == 0 for t in got[:-1])
    assert float(got[-1]['feet_air_time']) == pytest.approx((steps + 1) * step - 0.1, rel=1e-4)
    peak = max(heights)
    assert float(got[-1]['feet_height']) == pytest.approx((peak / 0.1 - 1) ** 2, rel=1e-3)
    # no air-time reward without a command
    m2 = m.clone()
    m2[:, SLICES['air_time'].start] = 0.3
    m2[:, SLICES['command']] = 0.0
    assert float(task.reward_terms(m2, m2.clone(), torch.zeros(1, 12))['feet_air_time']) == 0


def test_reward_scales_refuse_unknown_terms_and_missing_ones_are_off():
    with pytest.raises(ValueError, match='unknown terms .*jump'):
        Go1JoystickConfig(reward_scales={'jump': 1.0})
    old = Go1JoystickConfig(reward_scales={'tracking_lin_vel': 1.0, 'clip_to_zero': 1.0})
    assert old.reward_scales['pose'] == 0.0 and old.reward_scales['tracking_lin_vel'] == 1.0
    assert set(old.reward_scales) == set(Go1JoystickTask.REWARD_TERMS)
