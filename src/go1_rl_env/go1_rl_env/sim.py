# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
One simulated Go1 at the level of the Unitree SDKs (for an SDK-level sim bridge).

The motors take what the SDKs send per motor, in SDK order (FR, FL, RR, RL; hip, thigh,
calf): ``q, dq, kp, kd, tau``; the motor board applies
``tau_cmd = kp (q - q_meas) + kd (dq - dq_meas) + tau`` at every physics step (0.004 s),
clipped at the torque limits and scaled by the variant's motor strength, exactly the law
that the vectorised simulator's position actuators evaluate for ``dq = 0, tau = 0`` (a test
checks both give the same motion). State comes back as the SDKs report it: motor
q/dq/estimated torque, IMU quaternion (w, x, y, z), gyro and accelerometer in the body
frame, foot forces.
"""

from typing import Optional, Tuple

from go1_rl_env import model
from go1_rl_env.variants import resolve_variant
import mujoco
import numpy as np


class Go1Sim:
    """A single Go1 world with torque (motor) actuators driven by the SDK's PD law."""

    SDK_JOINT_NAMES = model.SDK_JOINT_NAMES

    def __init__(self, variant: str = 'real', seed: int = 0, task=None):
        """Build the robot of ``variant`` (see ``go1_rl_env.variants``)."""
        self.variant = resolve_variant(variant)
        self.model = model.load('motor')
        self.data = mujoco.MjData(self.model)
        self.rng = np.random.default_rng(seed)
        m, v = self.model, self.variant
        floor = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, 'floor')
        trunk = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, 'trunk')
        m.geom_friction[floor, 0] = v['friction']
        m.body_mass[:] *= v['mass_scale']
        m.body_mass[trunk] += v['torso_extra_mass']
        m.body_ipos[trunk] += np.array(v['torso_com_shift'])
        mujoco.mj_setConst(m, self.data)
        self.strength = float(v['motor_strength'])
        self.limits = np.array(model.TORQUE_LIMITS) * self.strength
        self.key_home = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_KEY, 'home')
        self.foot_sites = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, f)
                           for f in model.FOOT_NAMES]
        self.sensor = {n: m.sensor_adr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SENSOR, n)]
                       for n in ('gyro', 'accelerometer', 'local_linvel', 'orientation')}
        self.touch = [m.sensor_adr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SENSOR,
                                                     f'{f}_touch')] for f in model.FOOT_NAMES]
        self.cmd = {k: np.zeros(12) for k in ('q', 'dq', 'kp', 'kd', 'tau')}
        self.reset()

    @property
    def time(self) -> float:
        """Return the simulated seconds since the reset."""
        return float(self.data.time)

    @property
    def dt(self) -> float:
        """Physics step (s)."""
        return float(self.model.opt.timestep)

    def reset(self, seed: Optional[int] = None, lying: bool = False) -> None:
        """Put the robot standing at the default pose (or ``lying`` with folded legs)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        mujoco.mj_resetDataKeyframe(self.model, self.data, self.key_home)
        if lying:
            self.data.qpos[2] = 0.1
            self.data.qpos[7:19] = np.tile([0.0, 1.2, -2.7], 4)
        for k in self.cmd:
            self.cmd[k][:] = 0.0
        mujoco.mj_forward(self.model, self.data)

    def set_motor_commands(self, q, dq, kp, kd, tau) -> None:
        """Latch the per-motor command (SDK order) applied at every physics step."""
        for key, value in (('q', q), ('dq', dq), ('kp', kp), ('kd', kd), ('tau', tau)):
            arr = np.asarray(value, dtype=float).reshape(12)
            if not np.isfinite(arr).all():
                raise ValueError(f'motor command {key} has non-finite values: {arr}')
            self.cmd[key][:] = arr

    def damping(self, kd: float = 2.0) -> None:
        """Damping mode: zero stiffness and torque, velocity damping only."""
        self.set_motor_commands(np.zeros(12), np.zeros(12), np.zeros(12), np.full(12, kd),
                                np.zeros(12))

    def motor_torques(self) -> np.ndarray:
        """Return the torques the motor boards apply now (N m, SDK order)."""
        c, d = self.cmd, self.data
        tau = (c['kp'] * (c['q'] - d.qpos[7:19]) + c['kd'] * (c['dq'] - d.qvel[6:18])
               + c['tau']) * self.strength
        return np.clip(tau, -self.limits, self.limits)

    def step_physics(self, n: int = 1) -> None:
        """Advance ``n`` physics steps, re-evaluating the motor law at each."""
        for _ in range(n):
            self.data.ctrl[:] = self.motor_torques()
            mujoco.mj_step(self.model, self.data)

    def sdk_step(self, cmd: Optional[dict]) -> dict:
        """
        Do one motor-board cycle: latch ``cmd`` (if any), one physics step, report the state.

        ``cmd`` holds q, dq, kp, kd, tau (SDK order); the returned reading has q, dq,
        tau_est, quaternion, gyro, accel and foot_force, as the SDKs' low-level state does.
        """
        if cmd is not None:
            self.set_motor_commands(cmd['q'], cmd['dq'], cmd['kp'], cmd['kd'], cmd['tau'])
        self.step_physics(1)
        q, dq, tau = self.motor_state()
        quat, gyro, accel = self.imu()
        return {'q': q, 'dq': dq, 'tau_est': tau, 'quaternion': quat, 'gyro': gyro,
                'accel': accel, 'foot_force': self.foot_force()}

    def motor_state(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (q, dq, tau_est) of the 12 motors, SDK order."""
        d = self.data
        return d.qpos[7:19].copy(), d.qvel[6:18].copy(), d.actuator_force.copy()

    def imu(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (quaternion w x y z, gyro rad/s, accelerometer m/s^2), body frame."""
        s, sd = self.sensor, self.data.sensordata
        return (sd[s['orientation']:s['orientation'] + 4].copy(),
                sd[s['gyro']:s['gyro'] + 3].copy(),
                sd[s['accelerometer']:s['accelerometer'] + 3].copy())

    def base_velocity_world(self) -> np.ndarray:
        """Return the true base linear velocity in the world frame (m/s)."""
        return self.data.qvel[0:3].copy()

    def base_velocity_body(self) -> np.ndarray:
        """Return the true base linear velocity in the body frame (m/s)."""
        s = self.sensor['local_linvel']
        return self.data.sensordata[s:s + 3].copy()

    def foot_force(self) -> np.ndarray:
        """Return the normal contact force on each foot (N), SDK leg order."""
        return np.array([self.data.sensordata[a] for a in self.touch])

    def foot_contact(self) -> np.ndarray:
        """Return (4,) bool: feet touching the ground."""
        return self.foot_force() > 1.0

    def foot_positions(self) -> np.ndarray:
        """World positions of the four feet, (4, 3)."""
        return self.data.site_xpos[self.foot_sites].copy()

    def flipped(self) -> bool:
        """Return True when the body is upside down."""
        w, x, y, z = self.data.qpos[3:7]
        return 1 - 2 * (x * x + y * y) < 0.0
