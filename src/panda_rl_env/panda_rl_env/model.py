# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Panda pick scene in MuJoCo, written here from public facts (no downloads).

- Arm: Franka Emika Panda kinematics (link offsets 0.333 / 0.316 / 0.0825 / 0.384 / 0.088 /
  0.107 m, the published joint ranges), primitive collision geometry (capsules), masses of
  the public inertial data (rounded), gravity compensated (``gravcomp``) as on the robot.
- Controller: a **Cartesian impedance law in MuJoCo itself**. Six ``position`` actuators
  with a ``site`` transmission on the tool centre point (TCP) and ``refsite`` = the
  equilibrium frame (a mocap body): each measures the TCP's displacement from the
  equilibrium along one axis (3 translations, 3 rotations) and applies
  F = -K (x - x_eq) - D x_dot through the TCP Jacobian, tau = J^T F: what franka's
  cartesian impedance controllers compute. Stiffness and damping are model fields, so
  ``mujoco.batch`` randomises them per simulation and steps the controller with the physics
  (GIL released). A weak joint spring towards the home posture plays the null-space term.
- Gripper: two fingers (0..0.04 m each, coupled by an equality), a position actuator whose
  force is limited like the Franka Hand's grasp force (70 N continuous).
- Table top at z = 0 (the robot base stands on it), a 5 cm cube with six ArUco markers
  (``markers.py``) textured on its faces, and the camera (``CAMERA``) looking at the
  workspace from in front of the robot.
"""

import functools
from typing import Dict, Tuple

import mujoco
import numpy as np

from panda_rl_env import markers

#: Joint names (franka_ros2's ``fr3_joint1..7`` / ``panda_joint1..7``).
ARM_JOINTS = tuple(f'joint{i}' for i in range(1, 8))
JOINT_RANGES = ((-2.8973, 2.8973), (-1.7628, 1.7628), (-2.8973, 2.8973), (-3.0718, -0.0698),
                (-2.8973, 2.8973), (-0.0175, 3.7525), (-2.8973, 2.8973))
TORQUE_LIMITS = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
#: The paper's home TCP position in the base frame (m) and orientation (wxyz: pi about x,
#: the gripper pointing down, the fingers closing along the world y axis).
HOME_TIP = (0.661, -0.05, 0.179)
TIP_QUAT_WXYZ = (0.0, 1.0, 0.0, 0.0)
FINGER_MAX = 0.04
CUBE_HALF = 0.025
TIMESTEP = 0.002
#: Camera in the base frame: position and the point it looks at (m), vertical field of
#: view (degrees). In front of the robot, looking back at the y-z plane the tip moves in.
CAMERA = {'pos': (1.06, -0.05, 0.32), 'target': (0.661, -0.05, 0.10), 'fovy': 45.0}
#: Default impedance (translational N/m, rotational N m/rad; damping ratio of 2 sqrt(K)).
STIFFNESS = (600.0, 30.0)
#: Squeezing force of the hand (N): the adapter's default Grasp force (the Franka Hand
#: allows up to 70 N continuous); a Grasp goal's ``force`` sets it in the bridge.
GRASP_FORCE = 20.0
_INERTIAL = {  # mass (kg), centre of mass (m): public Panda inertial data, rounded
    'link1': (4.97, (0.0035, 0.0294, -0.1087)), 'link2': (0.65, (-0.0031, -0.0283, 0.1070)),
    'link3': (3.23, (0.0275, 0.0392, -0.0665)), 'link4': (3.59, (-0.0532, 0.1047, 0.0275)),
    'link5': (1.23, (-0.0120, 0.0410, -0.0385)), 'link6': (1.67, (0.0601, -0.0141, -0.0105)),
    'link7': (0.74, (0.0105, 0.0104, 0.0761)), 'hand': (0.73, (0.0, 0.0, 0.03))}


def _inertial(name: str) -> str:
    mass, com = _INERTIAL[name]
    i = 0.01 * mass
    return (f'<inertial pos="{com[0]} {com[1]} {com[2]}" mass="{mass}" '
            f'diaginertia="{i} {i} {i}"/>')


def _joint(i: int, damping: float = 2.0) -> str:
    lo, hi = JOINT_RANGES[i - 1]
    return (f'<joint name="joint{i}" range="{lo} {hi}" damping="{damping}" armature="0.1" '
            f'stiffness="2" springref="0"/>')


def camera_xyaxes(pos, target) -> Tuple[float, ...]:
    """Return the MuJoCo ``xyaxes`` of a camera at ``pos`` looking at ``target``."""
    f = np.asarray(target, float) - np.asarray(pos, float)
    f /= np.linalg.norm(f)
    right = np.cross(f, (0.0, 0.0, 1.0))
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    return tuple(np.round(np.concatenate([right, up]), 6))


def mjcf(stiffness=STIFFNESS, home_q=None) -> str:
    """Return the scene's MJCF (textures by file name: see ``assets``)."""
    kt, kr = stiffness
    dt, dr = 2 * np.sqrt(kt), 2 * np.sqrt(kr)
    cam = ' '.join(str(v) for v in camera_xyaxes(CAMERA['pos'], CAMERA['target']))
    faces = ' '.join(f'file{side}="{markers.face_file(mid)}"'
                     for side, mid in zip(markers.CUBE_SIDES, markers.MARKER_IDS))
    key = ''
    if home_q is not None:
        qpos = ' '.join(f'{q:.6f}' for q in home_q)
        key = (f'<keyframe><key name="home" qpos="{qpos} {FINGER_MAX} {FINGER_MAX} '
               f'{HOME_TIP[0]} -0.05 {CUBE_HALF} 1 0 0 0" '
               f'mpos="{HOME_TIP[0]} {HOME_TIP[1]} {HOME_TIP[2]}" '
               f'mquat="{" ".join(str(v) for v in TIP_QUAT_WXYZ)}" '
               f'ctrl="0 0 0 0 0 0 {FINGER_MAX}"/></keyframe>')
    link = 'type="capsule" rgba="0.92 0.92 0.95 1" contype="0" conaffinity="0"'
    return f"""
<mujoco model="panda_pick">
  <compiler angle="radian" autolimits="true"/>
  <option timestep="{TIMESTEP}" integrator="implicitfast" cone="elliptic"
          impratio="10"/>
  <visual>
    <quality shadowsize="0" offsamples="0"/>
    <global offwidth="1280" offheight="960"/>
    <headlight ambient="0.45 0.45 0.45" diffuse="0.6 0.6 0.6" specular="0 0 0"/>
  </visual>
  <asset>
    <texture name="cube_tex" type="cube" {faces}/>
    <material name="cube_mat" texture="cube_tex"/>
    <material name="table_mat" rgba="0.55 0.42 0.30 1"/>
  </asset>
  <default>
    <geom solref="0.01 1" solimp="0.95 0.99 0.001" condim="4" friction="1 0.01 0.001"/>
  </default>
  <worldbody>
    <light name="top" pos="0.6 0 1.5" dir="0 0 -1" diffuse="0.5 0.5 0.5" castshadow="false"/>
    <geom name="table" type="box" pos="0.5 0 -0.02" size="0.8 0.8 0.02" material="table_mat"/>
    <camera name="realsense" pos="{' '.join(str(v) for v in CAMERA['pos'])}"
            xyaxes="{cam}" fovy="{CAMERA['fovy']}"/>
    <body name="link0">
      <geom {link} fromto="0 0 0 0 0 0.14" size="0.07"/>
      <body name="link1" pos="0 0 0.333" gravcomp="1">
        {_inertial('link1')}{_joint(1)}
        <geom {link} fromto="0 0 -0.2 0 0 0" size="0.065"/>
        <body name="link2" quat="0.7071068 -0.7071068 0 0" gravcomp="1">
          {_inertial('link2')}{_joint(2)}
          <geom {link} fromto="0 0 0 0 -0.2 0" size="0.065"/>
          <body name="link3" pos="0 -0.316 0" quat="0.7071068 0.7071068 0 0" gravcomp="1">
            {_inertial('link3')}{_joint(3)}
            <geom {link} fromto="0 0 -0.15 0.0825 0 0" size="0.06"/>
            <body name="link4" pos="0.0825 0 0" quat="0.7071068 0.7071068 0 0" gravcomp="1">
              {_inertial('link4')}{_joint(4)}
              <geom {link} fromto="0 0 0 -0.0825 0.12 0" size="0.06"/>
              <body name="link5" pos="-0.0825 0.384 0" quat="0.7071068 -0.7071068 0 0"
                    gravcomp="1">
                {_inertial('link5')}{_joint(5, 1.0)}
                <geom {link} fromto="0 0 -0.24 0 0.05 -0.05" size="0.055"/>
                <body name="link6" quat="0.7071068 0.7071068 0 0" gravcomp="1">
                  {_inertial('link6')}{_joint(6, 1.0)}
                  <geom {link} fromto="0 0 0 0.088 0 0" size="0.05"/>
                  <body name="link7" pos="0.088 0 0" quat="0.7071068 0.7071068 0 0"
                        gravcomp="1">
                    {_inertial('link7')}{_joint(7, 1.0)}
                    <geom {link} fromto="0 0 0 0 0 0.08" size="0.045"/>
                    <body name="hand" pos="0 0 0.107" quat="0.9238795 0 0 -0.3826834"
                          gravcomp="1">
                      {_inertial('hand')}
                      <geom name="hand" type="box" pos="0 0 0.03" size="0.025 0.1 0.025"
                            rgba="0.92 0.92 0.95 1"/>
                      <site name="tcp" pos="0 0 0.1034" size="0.005" rgba="1 0 0 0"/>
                      <body name="left_finger" pos="0 0 0.0584" gravcomp="1">
                        <inertial pos="0 0 0.02" mass="0.015" diaginertia="1e-5 1e-5 1e-5"/>
                        <joint name="finger_joint1" type="slide" axis="0 1 0"
                               range="0 {FINGER_MAX}" damping="30" armature="0.1"/>
                        <geom name="left_pad" type="box" pos="0 0.008 0.035"
                              size="0.01 0.008 0.018" rgba="0.2 0.2 0.2 1" friction="1.5"/>
                      </body>
                      <body name="right_finger" pos="0 0 0.0584" gravcomp="1">
                        <inertial pos="0 0 0.02" mass="0.015" diaginertia="1e-5 1e-5 1e-5"/>
                        <joint name="finger_joint2" type="slide" axis="0 -1 0"
                               range="0 {FINGER_MAX}" damping="30" armature="0.1"/>
                        <geom name="right_pad" type="box" pos="0 -0.008 0.035"
                              size="0.01 0.008 0.018" rgba="0.2 0.2 0.2 1" friction="1.5"/>
                      </body>
                    </body>
                  </body>
                </body>
              </body>
            </body>
          </body>
        </body>
      </body>
    </body>
    <body name="equilibrium" mocap="true" pos="{HOME_TIP[0]} {HOME_TIP[1]} {HOME_TIP[2]}"
          quat="{' '.join(str(v) for v in TIP_QUAT_WXYZ)}">
      <site name="equilibrium" size="0.004" rgba="0 1 0 0"/>
    </body>
    <body name="cube" pos="{HOME_TIP[0]} -0.05 {CUBE_HALF}">
      <freejoint name="cube"/>
      <geom name="cube" type="box" size="{CUBE_HALF} {CUBE_HALF} {CUBE_HALF}" mass="0.1"
            material="cube_mat" friction="1 0.01 0.001"/>
    </body>
  </worldbody>
  <equality>
    <joint name="fingers" joint1="finger_joint1" joint2="finger_joint2"
           solref="0.005 1" solimp="0.95 0.99 0.001"/>
  </equality>
  <contact>
    <exclude body1="hand" body2="left_finger"/>
    <exclude body1="hand" body2="right_finger"/>
    <exclude body1="link0" body2="link1"/>
  </contact>
  <actuator>
    <position name="imp_x" site="tcp" refsite="equilibrium" gear="1 0 0 0 0 0" kp="{kt}"
              kv="{dt}" forcerange="-80 80"/>
    <position name="imp_y" site="tcp" refsite="equilibrium" gear="0 1 0 0 0 0" kp="{kt}"
              kv="{dt}" forcerange="-80 80"/>
    <position name="imp_z" site="tcp" refsite="equilibrium" gear="0 0 1 0 0 0" kp="{kt}"
              kv="{dt}" forcerange="-80 80"/>
    <position name="imp_rx" site="tcp" refsite="equilibrium" gear="0 0 0 1 0 0" kp="{kr}"
              kv="{dr}" forcerange="-10 10"/>
    <position name="imp_ry" site="tcp" refsite="equilibrium" gear="0 0 0 0 1 0" kp="{kr}"
              kv="{dr}" forcerange="-10 10"/>
    <position name="imp_rz" site="tcp" refsite="equilibrium" gear="0 0 0 0 0 1" kp="{kr}"
              kv="{dr}" forcerange="-10 10"/>
    <position name="gripper" joint="finger_joint1" kp="2000" kv="0" ctrlrange="0 {FINGER_MAX}"
              forcerange="-{GRASP_FORCE} {GRASP_FORCE}"/>
  </actuator>
  {key}
</mujoco>
"""


def assets() -> Dict[str, bytes]:
    """Return the PNG textures of the cube faces by file name."""
    return markers.face_pngs()


def _build(home_q=None, stiffness=STIFFNESS) -> mujoco.MjModel:
    m = mujoco.MjModel.from_xml_string(mjcf(stiffness, home_q), assets())
    if home_q is not None:
        m.qpos_spring[:7] = home_q  # the null-space spring pulls towards the home posture
    return m


@functools.lru_cache(maxsize=1)
def home_joint_angles() -> Tuple[float, ...]:
    """Joint angles that put the TCP at ``HOME_TIP`` pointing down (solved once)."""
    m = _build()
    d = mujoco.MjData(m)
    d.qpos[:7] = (0.0, 0.2, 0.0, -2.0, 0.0, 2.2, 0.785)
    site = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, 'tcp')
    target_pos = np.array(HOME_TIP)
    target_quat = np.array(TIP_QUAT_WXYZ)
    jacp, jacr = np.zeros((3, m.nv)), np.zeros((3, m.nv))
    for _ in range(300):
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        err_p = target_pos - d.site_xpos[site]
        quat = np.zeros(4)
        mujoco.mju_mat2Quat(quat, d.site_xmat[site])
        err_r = np.zeros(3)
        neg = np.zeros(4)
        mujoco.mju_negQuat(neg, quat)
        dq = np.zeros(4)
        mujoco.mju_mulQuat(dq, target_quat, neg)
        mujoco.mju_quat2Vel(err_r, dq, 1.0)
        err = np.concatenate([err_p, err_r])
        if np.linalg.norm(err) < 1e-9:
            break
        mujoco.mj_jacSite(m, d, jacp, jacr, site)
        jac = np.vstack([jacp, jacr])[:, :7]
        step = jac.T @ np.linalg.solve(jac @ jac.T + 1e-6 * np.eye(6), err)
        d.qpos[:7] = np.clip(d.qpos[:7] + step, [r[0] for r in JOINT_RANGES],
                             [r[1] for r in JOINT_RANGES])
    return tuple(float(q) for q in d.qpos[:7])


def load(stiffness=STIFFNESS) -> mujoco.MjModel:
    """Load the scene with its ``home`` keyframe (arm home, gripper open, cube below)."""
    return _build(home_joint_angles(), stiffness)


def ids(m: mujoco.MjModel) -> Dict[str, int]:
    """Return the indices the simulators use."""
    def obj(kind, name):
        return mujoco.mj_name2id(m, kind, name)
    o = mujoco.mjtObj
    return {'tcp': obj(o.mjOBJ_SITE, 'tcp'), 'cube_body': obj(o.mjOBJ_BODY, 'cube'),
            'cube_geom': obj(o.mjOBJ_GEOM, 'cube'), 'table': obj(o.mjOBJ_GEOM, 'table'),
            'left_pad': obj(o.mjOBJ_GEOM, 'left_pad'), 'right_pad': obj(o.mjOBJ_GEOM, 'right_pad'),
            'camera': obj(o.mjOBJ_CAMERA, 'realsense'), 'home': obj(o.mjOBJ_KEY, 'home'),
            'gripper': obj(o.mjOBJ_ACTUATOR, 'gripper'),
            'finger1': m.jnt_qposadr[obj(o.mjOBJ_JOINT, 'finger_joint1')],
            'finger2': m.jnt_qposadr[obj(o.mjOBJ_JOINT, 'finger_joint2')],
            'cube_qpos': m.jnt_qposadr[obj(o.mjOBJ_JOINT, 'cube')],
            'cube_dof': m.jnt_dofadr[obj(o.mjOBJ_JOINT, 'cube')]}
