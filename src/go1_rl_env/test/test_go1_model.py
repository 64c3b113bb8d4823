# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""MJCF facts of the Go1: joint order by name, default pose, masses, limits, PD stand."""

from go1_rl_env import model
from go1_rl_env.sim import Go1Sim
import mujoco
import numpy as np
import pytest


def test_joints_and_actuators_follow_the_sdk_order_by_name():
    for flavour in ('position', 'motor'):
        m = model.load(flavour)
        assert m.nu == 12 and m.nq == 19
        for i, name in enumerate(model.SDK_JOINT_NAMES):
            j = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)
            assert j >= 0, name
            # SDK motor i is qpos[7 + i], qvel[6 + i] and actuator i
            assert m.jnt_qposadr[j] == 7 + i and m.jnt_dofadr[j] == 6 + i
            assert m.actuator_trnid[i, 0] == j
    assert model.SDK_JOINT_NAMES[:3] == ('FR_hip_joint', 'FR_thigh_joint', 'FR_calf_joint')
    assert [n[:2] for n in model.SDK_JOINT_NAMES[::3]] == ['FR', 'FL', 'RR', 'RL']


def test_right_legs_are_on_the_right():
    m = model.load()
    d = mujoco.MjData(m)
    mujoco.mj_resetDataKeyframe(m, d, 0)
    mujoco.mj_forward(m, d)
    for leg in model.LEGS:
        pos = d.xpos[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, f'{leg}_hip')]
        assert (pos[0] > 0) == (leg[0] == 'F')   # front legs ahead (+x)
        assert (pos[1] < 0) == (leg[1] == 'R')   # right legs at -y (x forward, z up)


def test_default_pose_masses_and_limits():
    m = model.load()
    key = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_KEY, 'home')
    np.testing.assert_allclose(m.key_qpos[key, 7:], model.DEFAULT_POSE)
    assert model.DEFAULT_POSE[:3] == (0.1, 0.9, -1.8)
    trunk = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, 'trunk')
    assert m.body_mass[trunk] == pytest.approx(5.204)
    assert m.body_subtreemass[trunk] == pytest.approx(
        5.204 + 4 * (0.680 + 1.009 + 0.196 + 0.06), rel=1e-6)
    for i, name in enumerate(model.SDK_JOINT_NAMES):
        lim = 35.55 if 'calf' in name else 23.7
        np.testing.assert_allclose(m.actuator_forcerange[i], [-lim, lim])
        part = name.split('_')[1]
        j = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)
        np.testing.assert_allclose(m.jnt_range[j], model.JOINT_RANGES[part])
    assert m.opt.timestep == pytest.approx(0.004)
    np.testing.assert_allclose(m.actuator_gainprm[:, 0], 35.0)
    np.testing.assert_allclose(m.actuator_biasprm[:, 2], -0.5)


@pytest.mark.parametrize('flavour', ['position', 'sdk'])
def test_pd_at_the_default_pose_holds_the_body_up(flavour):
    if flavour == 'position':
        m = model.load()
        d = mujoco.MjData(m)
        mujoco.mj_resetDataKeyframe(m, d, 0)
        mujoco.mj_step(m, d, nstep=500)
        height, up = d.qpos[2], d.qpos[3]
    else:
        sim = Go1Sim('nominal')
        sim.set_motor_commands(model.DEFAULT_POSE, np.zeros(12), np.full(12, 35.0),
                               np.full(12, 0.5), np.zeros(12))
        sim.step_physics(500)
        height, up = sim.data.qpos[2], sim.data.qpos[3]
        assert not sim.flipped() and sim.foot_contact().all()
    assert 0.22 < height < 0.30 and up > 0.99


def test_sdk_motor_law_moves_the_robot_like_the_position_actuators():
    # Same targets through MuJoCo's position actuators (vector env) and through the SDK's
    # kp/kd law evaluated per physics step (bridge): the same motion.
    m = model.load('position')
    d = mujoco.MjData(m)
    mujoco.mj_resetDataKeyframe(m, d, 0)
    sim = Go1Sim('nominal')
    q0 = np.array(model.DEFAULT_POSE)
    for step in range(250):
        target = q0 + 0.3 * np.sin(0.05 * step + np.arange(12))
        d.ctrl[:] = target
        mujoco.mj_step(m, d)
        sim.set_motor_commands(target, np.zeros(12), np.full(12, 35.0), np.full(12, 0.5),
                               np.zeros(12))
        sim.step_physics(1)
    assert np.abs(d.qpos - sim.data.qpos).max() < 1e-3


def test_damping_mode_lowers_the_robot_slowly():
    sim = Go1Sim('nominal')
    sim.damping(kd=2.0)
    speeds = []
    for _ in range(250):
        sim.step_physics(1)
        speeds.append(np.abs(sim.data.qvel[6:18]).max())
    assert max(speeds) < 15.0          # damped: no joint whips around
    assert sim.data.qpos[2] < 0.2      # and nothing holds it up
    q, dq, tau = sim.motor_state()
    assert np.all(np.abs(tau) <= np.array(model.TORQUE_LIMITS) + 1e-9)


def test_sdk_commands_refuse_non_finite_values():
    sim = Go1Sim('nominal')
    with pytest.raises(ValueError, match='non-finite'):
        sim.set_motor_commands([np.nan] * 12, np.zeros(12), np.zeros(12), np.zeros(12),
                               np.zeros(12))
