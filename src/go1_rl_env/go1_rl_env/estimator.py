# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Base linear velocity of the Go1 from the IMU and leg kinematics (no ROS).

Each foot on the ground is assumed not to slip, so the base moves opposite to how the
foot moves relative to it: ``v_base = -(J_foot(q) dq + w x r_foot)`` in the body frame,
with ``r_foot`` and ``J_foot`` from the project's MJCF (forward kinematics of the legs with
the base held at the origin) and ``w`` the gyro. The legs in contact (foot force above
``contact_force`` N) are averaged, and the result is fused with the IMU: the accelerometer
(minus gravity) integrates the velocity between steps and the kinematic estimate pulls it
back with gain ``alpha`` (a complementary filter). Without any foot in contact only the
IMU integration runs. Where a motion-capture velocity is configured the driver uses that
instead (``Go1VelocityEstimator.set_mocap``).
"""

from typing import Optional

from go1_rl_env import model
import mujoco
import numpy as np


def quat_to_matrix(quat_wxyz) -> np.ndarray:
    """Rotation matrix (body -> world) of a unit quaternion (w, x, y, z)."""
    mat = np.zeros(9)
    mujoco.mju_quat2Mat(mat, np.asarray(quat_wxyz, float))
    return mat.reshape(3, 3)


class LegKinematics:
    """Foot positions and Jacobians relative to the base, from the MJCF."""

    def __init__(self):
        """Compile the model once (the base is held at the origin)."""
        self.model = model.load('motor')
        self.data = mujoco.MjData(self.model)
        self.sites = [mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_SITE, f)
                      for f in model.FOOT_NAMES]
        self.jac = np.zeros((3, self.model.nv))

    def feet(self, q: np.ndarray):
        """Return foot positions (4, 3) and Jacobians (4, 3, 12) w.r.t. the 12 joints."""
        d = self.data
        d.qpos[:7] = (0, 0, 0, 1, 0, 0, 0)
        d.qpos[7:19] = q
        mujoco.mj_kinematics(self.model, d)
        mujoco.mj_comPos(self.model, d)
        pos = np.empty((4, 3))
        jacs = np.empty((4, 3, 12))
        for i, site in enumerate(self.sites):
            mujoco.mj_jacSite(self.model, d, self.jac, None, site)
            pos[i] = d.site_xpos[site]
            jacs[i] = self.jac[:, 6:18]
        return pos, jacs


class Go1VelocityEstimator:
    """Complementary filter of leg odometry and IMU acceleration (body frame)."""

    def __init__(self, alpha: float = 0.1, contact_force: float = 20.0):
        """``alpha``: weight of the kinematic estimate per update (0..1)."""
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f'alpha={alpha} is out of range (0, 1]')
        self.alpha = alpha
        self.contact_force = contact_force
        self.kin = LegKinematics()
        self.velocity = np.zeros(3)
        self.mocap: Optional[np.ndarray] = None

    def reset(self) -> None:
        """Forget the estimate (the robot is at rest)."""
        self.velocity = np.zeros(3)

    def set_mocap(self, velocity_body: Optional[np.ndarray]) -> None:
        """Use a motion-capture velocity (body frame) instead of the estimate (None: off)."""
        self.mocap = None if velocity_body is None else np.asarray(velocity_body, float)

    def leg_odometry(self, q, dq, gyro, foot_force) -> Optional[np.ndarray]:
        """Return the mean base velocity implied by the feet in contact, or None."""
        pos, jacs = self.kin.feet(np.asarray(q, float))
        contact = np.asarray(foot_force, float) > self.contact_force
        if not contact.any():
            return None
        w = np.asarray(gyro, float)
        est = [-(jacs[i] @ dq + np.cross(w, pos[i])) for i in range(4) if contact[i]]
        return np.mean(est, axis=0)

    def update(self, q, dq, quat_wxyz, gyro, accel, foot_force, dt: float) -> np.ndarray:
        """Advance by ``dt`` seconds with one state reading; return v (body frame, m/s)."""
        if self.mocap is not None:
            self.velocity = self.mocap.copy()
            return self.velocity
        rot = quat_to_matrix(quat_wxyz)
        gravity_body = rot.T @ np.array([0.0, 0.0, -9.81])
        # the accelerometer measures specific force: a = f + g; the velocity in a rotating
        # frame also changes by -w x v
        w = np.asarray(gyro, float)
        acc = np.asarray(accel, float) + gravity_body - np.cross(w, self.velocity)
        predicted = self.velocity + acc * dt
        kin = self.leg_odometry(q, np.asarray(dq, float), w, foot_force)
        self.velocity = predicted if kin is None else (
            (1 - self.alpha) * predicted + self.alpha * kin)
        return self.velocity
