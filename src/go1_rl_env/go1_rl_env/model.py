# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The project's own MJCF of the Unitree Go1 (no downloads: written from public facts).

Masses, link lengths, joint limits and torque limits are Unitree's published Go1 values
(the go1_description URDF: trunk 5.204 kg, hip 0.680 kg, thigh 1.009 kg, calf 0.196 kg +
foot; hip offsets (+-0.1881, +-0.04675), thigh offset 0.08, thigh and calf 0.213 m; limits
hip +-0.863, thigh -0.686..4.501, calf -2.818..-0.888 rad; 23.7 N m hip/thigh, 35.55 N m
calf). Collision geometry is primitive (trunk box, capsule links, sphere feet), which is
what the paper's simulator uses too.

Joints and actuators are declared in the SDKs' order FR, FL, RR, RL (hip, thigh, calf each),
so index i of ``qpos[7:]``, ``ctrl`` and the SDK's ``motorCmd[i]`` is the same joint;
``SDK_JOINT_NAMES`` names them and a test checks the mapping by name.

Two actuator flavours share one body tree:

- ``'position'`` (the vectorised simulator): MuJoCo position actuators with kp 35 and
  kv 0.5 and the torque limits as force ranges, i.e. the PD law
  ``tau = clip(kp (q* - q) - kd dq)`` evaluated by physics at every 0.004 s substep
  (``mujoco.batch`` steps without Python in between);
- ``'motor'`` (the SDK-level bridge): torque actuators; the caller evaluates the SDK's
  full law ``kp (q* - q) + kd (dq* - dq) + tau`` each substep (``go1_rl_env.sim``).
"""

from typing import Tuple

LEGS = ('FR', 'FL', 'RR', 'RL')
PARTS = ('hip', 'thigh', 'calf')
#: SDK motor index i -> MJCF joint name (FR_hip_joint = 0, ..., RL_calf_joint = 11).
SDK_JOINT_NAMES: Tuple[str, ...] = tuple(f'{leg}_{part}_joint' for leg in LEGS
                                         for part in PARTS)
FOOT_NAMES: Tuple[str, ...] = tuple(f'{leg}_foot' for leg in LEGS)

#: Default (standing) joint targets in SDK order: hip +0.1 on the right legs and -0.1 on the
#: left ones (abducted outward), thigh 0.9, calf -1.8 rad.
DEFAULT_POSE: Tuple[float, ...] = (0.1, 0.9, -1.8, -0.1, 0.9, -1.8,
                                   0.1, 0.9, -1.8, -0.1, 0.9, -1.8)
#: Trunk height of the default pose standing on flat ground (m), measured with this model.
STAND_HEIGHT = 0.28
TORQUE_LIMITS: Tuple[float, ...] = (23.7, 23.7, 35.55) * 4
JOINT_RANGES = {'hip': (-0.863, 0.863), 'thigh': (-0.686, 4.501), 'calf': (-2.818, -0.888)}
KP = 35.0
KD = 0.5
PHYSICS_DT = 0.004
MASSES = {'trunk': 5.204, 'hip': 0.680, 'thigh': 1.009, 'calf': 0.196, 'foot': 0.06}
HIP_OFFSET = (0.1881, 0.04675)
THIGH_OFFSET = 0.08
LINK_LENGTH = 0.213
FOOT_RADIUS = 0.022


def _range(part: str) -> str:
    return f'{JOINT_RANGES[part][0]} {JOINT_RANGES[part][1]}'


def _leg(leg: str, actuated: str) -> str:
    front = leg[0] == 'F'
    right = leg[1] == 'R'
    sx = 1.0 if front else -1.0
    sy = -1.0 if right else 1.0
    hx, hy = HIP_OFFSET
    lr = LINK_LENGTH
    r = FOOT_RADIUS
    return f"""
      <body name="{leg}_hip" pos="{sx * hx} {sy * hy} 0">
        <inertial pos="{-0.0033 * sx} {0.0005 * sy} 0" mass="{MASSES['hip']}"
                  diaginertia="0.00047 0.00081 0.00055"/>
        <joint name="{leg}_hip_joint" axis="1 0 0" range="{_range('hip')}"/>
        <geom class="collision" type="cylinder" size="0.046 0.02" zaxis="0 1 0" mass="0"/>
        <body name="{leg}_thigh" pos="0 {sy * THIGH_OFFSET} 0">
          <inertial pos="-0.0039 {-0.0197 * sy} -0.0348" mass="{MASSES['thigh']}"
                    diaginertia="0.0055 0.0054 0.0010"/>
          <joint name="{leg}_thigh_joint" axis="0 1 0" range="{_range('thigh')}"/>
          <geom class="collision" type="capsule" fromto="0 0 0 0 0 {-lr}" size="0.0175"
                mass="0"/>
          <body name="{leg}_calf" pos="0 0 {-lr}">
            <inertial pos="0.0047 0 -0.1312" mass="{MASSES['calf'] + MASSES['foot']}"
                      diaginertia="0.0037 0.0037 0.00005"/>
            <joint name="{leg}_calf_joint" axis="0 1 0" range="{_range('calf')}"/>
            <geom class="collision" type="capsule" fromto="0 0 0 0 0 {-lr + r}"
                  size="0.012" mass="0"/>
            <geom name="{leg}_foot" class="foot" type="sphere" pos="0 0 {-lr}" size="{r}"
                  mass="0"/>
            <site name="{leg}_foot" pos="0 0 {-lr}" size="{r + 0.002}"/>
          </body>
        </body>
      </body>"""


def mjcf(actuators: str = 'position', kp: float = KP, kd: float = KD) -> str:
    """Return the MJCF text of the Go1 on a flat floor (``actuators``: position | motor)."""
    if actuators not in ('position', 'motor'):
        raise ValueError(f"actuators={actuators!r}: must be 'position' or 'motor'")
    legs = ''.join(_leg(leg, actuators) for leg in LEGS)
    acts = []
    for i, name in enumerate(SDK_JOINT_NAMES):
        lim = TORQUE_LIMITS[i]
        if actuators == 'position':
            acts.append(f'<position name="{name[:-6]}" joint="{name}" kp="{kp}" kv="{kd}" '
                        f'forcerange="{-lim} {lim}" ctrlrange="-6.3 6.3"/>')
        else:
            acts.append(f'<motor name="{name[:-6]}" joint="{name}" ctrlrange="{-lim} {lim}"/>')
    touch = ''.join(f'<touch name="{f}_touch" site="{f}"/>' for f in FOOT_NAMES)
    home = ' '.join(str(v) for v in DEFAULT_POSE)
    home_ctrl = home if actuators == 'position' else ' '.join(['0'] * 12)
    return f"""<mujoco model="go1">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{PHYSICS_DT}" integrator="Euler" iterations="4" ls_iterations="6">
    <flag eulerdamp="disable"/>
  </option>
  <visual><quality shadowsize="0"/></visual>
  <default>
    <joint armature="0.005" damping="0.1" frictionloss="0.1"/>
    <geom contype="0" conaffinity="0" friction="0.8 0.02 0.01"/>
    <default class="collision"><geom contype="0" conaffinity="0" group="3"/></default>
    <default class="foot"><geom contype="1" conaffinity="0" condim="3" priority="1"
      friction="0.8 0.02 0.01" solref="0.02 1"/></default>
  </default>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 0.05" contype="0" conaffinity="1" condim="3"
          friction="0.8 0.02 0.01"/>
    <body name="trunk" pos="0 0 {STAND_HEIGHT}">
      <freejoint name="root"/>
      <inertial pos="0.0116 0.0044 0.0001" mass="{MASSES['trunk']}"
                diaginertia="0.0168 0.0630 0.0717"/>
      <geom name="trunk" type="box" size="0.1881 0.04675 0.057" contype="1" conaffinity="0"
            mass="0"/>
      <site name="imu" pos="0 0 0"/>
      {legs}
    </body>
  </worldbody>
  <actuator>
    {' '.join(acts)}
  </actuator>
  <sensor>
    <gyro name="gyro" site="imu"/>
    <accelerometer name="accelerometer" site="imu"/>
    <velocimeter name="local_linvel" site="imu"/>
    <framequat name="orientation" objtype="site" objname="imu"/>
    {touch}
  </sensor>
  <keyframe>
    <key name="home" qpos="0 0 {STAND_HEIGHT} 1 0 0 0 {home}" ctrl="{home_ctrl}"/>
  </keyframe>
</mujoco>
"""


def load(actuators: str = 'position', kp: float = KP, kd: float = KD):
    """Compile the model (``mujoco.MjModel``)."""
    import mujoco
    return mujoco.MjModel.from_xml_string(mjcf(actuators, kp, kd))
