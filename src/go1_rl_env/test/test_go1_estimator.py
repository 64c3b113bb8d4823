# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The velocity estimator (IMU + leg kinematics) against the simulator's true velocity."""

from go1_rl_env import model
from go1_rl_env.estimator import Go1VelocityEstimator, LegKinematics
from go1_rl_env.sim import Go1Sim
import mujoco
import numpy as np
import pytest

Q0 = np.array(model.DEFAULT_POSE)
FRONT = np.array([1.0] * 6 + [-1.0] * 6)
MOTIONS = {
    # squat: the base moves up/down and fore/aft (0.38 / 0.14 m/s rms)
    'squat': lambda t: np.tile([0, 0.2 * np.sin(2 * np.pi * t),
                                -0.4 * np.sin(2 * np.pi * t)], 4),
    # pitch: front and rear thighs in opposition (0.14 m/s rms fore/aft)
    'pitch': lambda t: np.tile([0, 0.15 * np.sin(1.6 * np.pi * t), 0], 4) * FRONT,
    # sway: the hips roll the body sideways (0.13 m/s rms sideways)
    'sway': lambda t: np.tile([0.1 * np.sin(1.6 * np.pi * t), 0, 0], 4),
}


@pytest.mark.parametrize('motion', sorted(MOTIONS))
def test_estimate_follows_the_true_base_velocity(motion):
    sim = Go1Sim('nominal')
    est = Go1VelocityEstimator(alpha=0.1)
    errors, truth = [], []
    for k in range(1500):                      # 6 s at the 0.004 s physics step
        target = Q0 + MOTIONS[motion](k * sim.dt)
        sim.set_motor_commands(target, np.zeros(12), np.full(12, 35.0), np.full(12, 0.5),
                               np.zeros(12))
        sim.step_physics(1)
        q, dq, _ = sim.motor_state()
        quat, gyro, accel = sim.imu()
        v = est.update(q, dq, quat, gyro, accel, sim.foot_force(), sim.dt)
        if k >= 250:                           # after the first second
            errors.append(v - sim.base_velocity_body())
            truth.append(sim.base_velocity_body())
    assert not sim.flipped()
    errors, truth = np.array(errors), np.array(truth)
    rms_err = np.sqrt((errors ** 2).mean(0))
    rms_true = np.sqrt((truth ** 2).mean(0))
    moving = rms_true > 0.1
    assert moving.any()
    # measured: rms error 0.032/0.019/0.014 m/s on the moving axes, max 0.064 m/s
    assert (rms_err < 0.08).all(), rms_err
    assert (rms_err[moving] < 0.35 * rms_true[moving]).all(), (rms_err, rms_true)
    assert np.abs(errors).max() < 0.2


def test_leg_kinematics_match_the_simulated_feet():
    sim = Go1Sim('nominal')
    sim.set_motor_commands(Q0, np.zeros(12), np.full(12, 35.0), np.full(12, 0.5),
                           np.zeros(12))
    sim.step_physics(200)
    mujoco.mj_forward(sim.model, sim.data)   # derived positions at the current state
    pos, jacs = LegKinematics().feet(sim.data.qpos[7:19])
    base = sim.data.qpos[:3]
    from go1_rl_env.estimator import quat_to_matrix
    rot = quat_to_matrix(sim.data.qpos[3:7])
    np.testing.assert_allclose(base + pos @ rot.T, sim.foot_positions(), atol=1e-9)
    # right feet at -y, front feet at +x, all below the base
    assert (pos[[0, 2], 1] < 0).all() and (pos[[1, 3], 1] > 0).all()
    assert (pos[:2, 0] > 0).all() and (pos[:, 2] < -0.2).all()
    assert jacs.shape == (4, 3, 12)


def test_mocap_velocity_replaces_the_estimate_and_alpha_is_checked():
    est = Go1VelocityEstimator()
    est.set_mocap([0.5, 0.0, 0.0])
    v = est.update(Q0, np.zeros(12), (1, 0, 0, 0), np.zeros(3), (0, 0, 9.81), np.zeros(4),
                   0.02)
    np.testing.assert_allclose(v, [0.5, 0.0, 0.0])
    with pytest.raises(ValueError, match='alpha'):
        Go1VelocityEstimator(alpha=0.0)
