# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
N simulated Panda pick scenes stepped by ``mujoco.batch``, rendered headless.

``PandaWorld`` is the physics and camera of N scenes (used by the vector env for
pretraining and, with N = 1, by the sim bridge): equilibrium targets go to the mocap bodies
the impedance actuators pull the tool centre point towards, the gripper command to the
finger actuator, and ``mujoco.batch`` steps the controller with the physics (GIL released).
Each scene is rendered with the camera of the task (per-scene camera jitter, light and cube
size applied at render time) and preprocessed by ``vision.preprocess``.

``PandaPickVectorEnv`` is the task's Gymnasium vector env (``rl_core.simulator``).
Variants: ``sim`` (randomised around nominal, what pretraining sees), ``nominal`` and
``real`` (the shifted "real" Panda of sim-to-sim experiments: cube friction and mass,
camera offset, softer impedance, one step of action delay).
"""

import os
from typing import Dict, Optional

import gymnasium as gym
import mujoco
from mujoco import batch as mj_batch
import numpy as np
from panda_rl_env import model, vision
from panda_rl_env.task import MEASUREMENT_DIM, PandaMeasurement, PandaPickTask, SLICES
from rl_core.simulator import spaces_for, task_step
import torch

#: Randomisation ranges of the ``sim`` variant.
RANDOMIZATION = {
    'cube_mass': (0.05, 0.2),             # kg
    'cube_friction': (0.6, 1.2),
    'cube_half': (0.024, 0.026),          # m (cube edge 48-52 mm)
    'camera_pos_jitter': 0.01,            # m, each axis
    'camera_angle_jitter': 0.02,          # rad, each axis
    'light': (0.3, 0.8),                  # diffuse intensity
    'stiffness_scale': (0.7, 1.3),
    'delay_steps': (0, 1),                # control periods, inclusive
}
#: The hand's speed as a width rate (m/s): franka_msgs Move/Grasp ``speed``, the adapter's
#: default ``gripper_speed``.
GRIPPER_SPEED = 0.1
VARIANTS: Dict[str, Dict] = {
    'sim': {'randomize': True},
    'nominal': {'randomize': False, 'cube_mass': 0.1, 'cube_friction': 1.0,
                'cube_half': model.CUBE_HALF, 'camera_offset': (0.0, 0.0, 0.0),
                'camera_angle': (0.0, 0.0, 0.0), 'light': 0.5, 'stiffness_scale': 1.0,
                'delay_steps': 0},
    'real': {'randomize': False, 'cube_mass': 0.18, 'cube_friction': 0.55,
             'cube_half': model.CUBE_HALF, 'camera_offset': (0.015, -0.01, 0.012),
             'camera_angle': (0.015, -0.02, 0.01), 'light': 0.4, 'stiffness_scale': 0.5,
             'delay_steps': 1},
}


def resolve_variant(variant) -> Dict:
    """Return the parameter set of a variant name (or a dict given as is)."""
    if isinstance(variant, dict):
        return variant
    if variant not in VARIANTS:
        raise ValueError(f'unknown Panda variant {variant!r}: use one of {sorted(VARIANTS)}')
    return VARIANTS[variant]


def _small_rotation(angles) -> np.ndarray:
    rx, ry, rz = angles
    cx, sx, cy, sy, cz, sz = (np.cos(rx), np.sin(rx), np.cos(ry), np.sin(ry), np.cos(rz),
                              np.sin(rz))
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rot_z @ rot_y @ rot_x


class PandaWorld:
    """Physics and camera of N Panda pick scenes."""

    def __init__(self, num: int, variant='nominal', randomize: Optional[bool] = None,
                 seed: int = 0, image_size: int = 64, nthread: Optional[int] = None):
        """Build N scenes of a variant (``randomize`` overrides the variant's choice)."""
        self.num = num
        self.variant = resolve_variant(variant)
        self.randomize = self.variant['randomize'] if randomize is None else bool(randomize)
        self.rng = np.random.default_rng(seed)
        self.model = model.load()
        self.ids = model.ids(self.model)
        self.substep_dt = self.model.opt.timestep
        nthread = nthread if nthread is not None else min(2, os.cpu_count() or 1)
        self.batch = mj_batch.Batch(self.model, num, nthread=nthread, persistent=True)
        b = self.batch
        self.qpos, self.qvel = b.bind('qpos'), b.bind('qvel')
        self.ctrl, self.mocap_pos = b.bind('ctrl'), b.bind('mocap_pos')
        self.site_xpos = b.bind('site_xpos')
        self.body_mass = b.expand('body_mass')
        self.geom_friction = b.expand('geom_friction')
        self.geom_size = b.expand('geom_size')
        self.gainprm = b.expand('actuator_gainprm')
        self.biasprm = b.expand('actuator_biasprm')
        self.forcerange = b.expand('actuator_forcerange')
        self.nominal = {k: np.array(getattr(self.model, k)) for k in (
            'body_mass', 'geom_friction', 'geom_size', 'actuator_gainprm', 'actuator_biasprm',
            'cam_pos', 'cam_quat', 'light_diffuse')}
        self.camera_pos = np.tile(self.nominal['cam_pos'][self.ids['camera']], (num, 1))
        self.camera_quat = np.tile(self.nominal['cam_quat'][self.ids['camera']], (num, 1))
        self.light = np.full(num, 0.5)
        self.cube_half = np.full(num, model.CUBE_HALF)
        self.delay = np.zeros(num, np.int64)
        self.finger_ctrl = np.full(num, model.FINGER_MAX)
        self.image_size = image_size
        self._renderers = {}
        self._scratch = mujoco.MjData(self.model)

    # ------------------------------------------------------------------ parameters
    def apply_variant(self, ids: np.ndarray) -> None:
        """Write the variant's (or freshly randomised) parameters of scenes ``ids``."""
        n, v, r, nom = len(ids), self.variant, RANDOMIZATION, self.nominal
        if self.randomize:
            mass = self.rng.uniform(*r['cube_mass'], n)
            friction = self.rng.uniform(*r['cube_friction'], n)
            half = self.rng.uniform(*r['cube_half'], n)
            cam_off = self.rng.uniform(-1, 1, (n, 3)) * r['camera_pos_jitter']
            cam_ang = self.rng.uniform(-1, 1, (n, 3)) * r['camera_angle_jitter']
            light = self.rng.uniform(*r['light'], n)
            stiff = self.rng.uniform(*r['stiffness_scale'], n)
            delay = self.rng.integers(r['delay_steps'][0], r['delay_steps'][1] + 1, n)
        else:
            mass = np.full(n, v['cube_mass'])
            friction = np.full(n, v['cube_friction'])
            half = np.full(n, v['cube_half'])
            cam_off = np.tile(np.array(v['camera_offset'], float), (n, 1))
            cam_ang = np.tile(np.array(v['camera_angle'], float), (n, 1))
            light = np.full(n, v['light'])
            stiff = np.full(n, v['stiffness_scale'])
            delay = np.full(n, v['delay_steps'])
        i = self.ids
        body_mass = np.repeat(nom['body_mass'][None], n, 0)
        body_mass[:, i['cube_body']] = mass
        self.body_mass[ids] = body_mass
        fr = np.repeat(nom['geom_friction'][None], n, 0)
        fr[:, i['cube_geom'], 0] = friction
        self.geom_friction[ids] = fr
        size = np.repeat(nom['geom_size'][None], n, 0)
        size[:, i['cube_geom']] = half[:, None]
        self.geom_size[ids] = size
        # impedance actuators 0..5: kp scales with the stiffness, kv with its square root
        gain = np.repeat(nom['actuator_gainprm'][None], n, 0)
        bias = np.repeat(nom['actuator_biasprm'][None], n, 0)
        gain[:, :6, 0] *= stiff[:, None]
        bias[:, :6, 1] *= stiff[:, None]
        bias[:, :6, 2] *= np.sqrt(stiff)[:, None]
        self.gainprm[ids] = gain
        self.biasprm[ids] = bias
        self.batch.set_const(ids)
        c = i['camera']
        base_quat = nom['cam_quat'][c]
        base_rot = np.zeros(9)
        mujoco.mju_quat2Mat(base_rot, base_quat)
        for k, j in enumerate(ids):
            self.camera_pos[j] = nom['cam_pos'][c] + cam_off[k]
            rot = _small_rotation(cam_ang[k]) @ base_rot.reshape(3, 3)
            quat = np.zeros(4)
            mujoco.mju_mat2Quat(quat, rot.reshape(-1))
            self.camera_quat[j] = quat
        self.light[ids] = light
        self.cube_half[ids] = half
        self.delay[ids] = delay

    # ------------------------------------------------------------------ episode
    def reset(self, ids: np.ndarray, cube_xy: np.ndarray, cube_yaw: np.ndarray,
              apply_variant: bool = True) -> None:
        """Home pose, gripper open, the cube resting at ``cube_xy`` with ``cube_yaw``."""
        if len(ids) == 0:
            return
        if apply_variant:
            self.apply_variant(ids)
        self.batch.reset(ids, keyframe=self.ids['home'], stage=mujoco.mjtStage.mjSTAGE_NONE)
        q = self.qpos[ids]
        a = self.ids['cube_qpos']
        q[:, a:a + 2] = cube_xy
        q[:, a + 2] = self.cube_half[ids] + 1e-4
        q[:, a + 3:a + 7] = np.stack([np.cos(cube_yaw / 2), np.zeros_like(cube_yaw),
                                      np.zeros_like(cube_yaw), np.sin(cube_yaw / 2)], axis=1)
        self.qpos[ids] = q
        mp = self.mocap_pos[ids]
        mp[:, 0] = model.HOME_TIP
        self.mocap_pos[ids] = mp
        self.finger_ctrl[ids] = model.FINGER_MAX
        self.batch.forward(ids, stage=mujoco.mjtStage.mjSTAGE_VEL)

    def command(self, targets: np.ndarray, closed: np.ndarray, ids=None,
                finger_targets: Optional[np.ndarray] = None, dt: Optional[float] = None,
                speed: float = GRIPPER_SPEED) -> None:
        """
        Set equilibrium positions (N, 3) and gripper states (N,) (all or ``ids``).

        ``finger_targets`` (N,) (m per finger) replaces the open/closed gripper targets. The
        finger target moves at most ``speed`` / 2 x ``dt`` per call (the hand's speed,
        ``speed`` as a width rate in m/s, as in franka's Move/Grasp goals); ``dt`` None
        jumps at once.
        """
        ids = np.arange(self.num) if ids is None else ids
        mp = self.mocap_pos[ids]
        mp[:, 0] = targets
        self.mocap_pos[ids] = mp
        want = (np.where(closed, 0.0, model.FINGER_MAX) if finger_targets is None
                else np.asarray(finger_targets, float))
        if dt is not None:
            # a new direction starts from where the fingers are (a target run past a held
            # object would otherwise delay the opening), then moves at the hand's speed
            q = self.qpos[ids][:, self.ids['finger1']]
            cur = self.finger_ctrl[ids]
            cur = np.where(np.sign(want - q) != np.sign(cur - q), q, cur)
            step = speed / 2 * dt
            want = np.clip(want, cur - step, cur + step)
        self.finger_ctrl[ids] = want
        ctrl = self.ctrl[ids]
        ctrl[:, self.ids['gripper']] = want
        self.ctrl[ids] = ctrl

    def set_grasp_force(self, force: float, ids=None) -> None:
        """Limit the hand's squeezing force (N), as a franka Grasp goal's ``force`` does."""
        ids = np.arange(self.num) if ids is None else ids
        fr = self.forcerange[ids]
        fr[:, self.ids['gripper']] = (-float(force), float(force))
        self.forcerange[ids] = fr

    def step(self, nstep: int) -> None:
        """Advance every scene ``nstep`` physics steps."""
        self.batch.step(nstep=nstep)

    def tip(self) -> np.ndarray:
        """TCP positions (N, 3)."""
        return self.site_xpos[:, self.ids['tcp']].copy()

    def fingers(self) -> np.ndarray:
        """Finger positions (N, 2) (m)."""
        return self.qpos[:, [self.ids['finger1'], self.ids['finger2']]].copy()

    def cube(self) -> np.ndarray:
        """Cube centres (N, 3)."""
        a = self.ids['cube_qpos']
        return self.qpos[:, a:a + 3].copy()

    # ------------------------------------------------------------------ camera
    def renderer(self, width: int, height: int) -> mujoco.Renderer:
        """Return a renderer of this size (kept)."""
        key = (width, height)
        if key not in self._renderers:
            self._renderers[key] = mujoco.Renderer(self.model, height, width)
        return self._renderers[key]

    def render(self, i: int, width: int, height: int) -> np.ndarray:
        """RGB frame (height, width, 3) of scene ``i`` through its camera."""
        m, c = self.model, self.ids['camera']
        self.batch.get_data(i, self._scratch)
        m.cam_pos[c] = self.camera_pos[i]
        m.cam_quat[c] = self.camera_quat[i]
        m.light_diffuse[:] = self.light[i]
        m.geom_size[self.ids['cube_geom']] = self.cube_half[i]
        mujoco.mj_kinematics(m, self._scratch)
        r = self.renderer(width, height)
        r.update_scene(self._scratch, camera=c)
        return r.render()

    def policy_images(self, ids=None) -> np.ndarray:
        """Preprocessed policy images (len(ids), 1, S, S) uint8."""
        ids = range(self.num) if ids is None else ids
        s = self.image_size
        out = [vision.preprocess(self.render(i, s, s), s, 'rgb8') for i in ids]
        return np.stack(out)[:, None] if out else np.zeros((0, 1, s, s), np.uint8)


class PandaPickVectorEnv(gym.vector.VectorEnv):
    """The Panda pick task in N simulated scenes (Gymnasium vector API, torch tensors)."""

    metadata = {'autoreset_mode': gym.vector.AutoresetMode.SAME_STEP}

    def __init__(self, task: Optional[PandaPickTask] = None, num_envs: int = 1, *,
                 variant='sim', randomize: Optional[bool] = None, device='cpu', seed: int = 0,
                 nthread: Optional[int] = None):
        """Build ``num_envs`` scenes of ``variant`` (see ``VARIANTS``)."""
        if num_envs < 1:
            raise ValueError(f'num_envs={num_envs} is out of range: must be >= 1')
        self.task = task if task is not None else PandaPickTask()
        self.num_envs = num_envs
        self.device = torch.device(device)
        (self.single_observation_space, self.single_action_space, self.observation_space,
         self.action_space) = spaces_for(self.task, num_envs)
        cfg = self.task.config
        self.world = PandaWorld(num_envs, variant, randomize, seed, cfg.image_size, nthread)
        self.substeps = max(1, int(round(1.0 / (self.task.control_hz
                                                * self.world.substep_dt))))
        self.dt = self.substeps * self.world.substep_dt
        self.generator = torch.Generator().manual_seed(seed)
        self.history = self.task.new_history(num_envs)
        self.targets = np.tile(np.array(cfg.home), (num_envs, 1))
        self.closed = np.zeros(num_envs, bool)
        self.prev_action = np.zeros((num_envs, 3), np.float32)
        self.prev_tip = np.tile(np.array(cfg.home), (num_envs, 1))
        self.steps = np.zeros(num_envs, np.int64)
        self.returns = torch.zeros(num_envs)
        self.measurement: Optional[PandaMeasurement] = None

    def _reset_ids(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        start = self.task.start_measurements(len(ids), self.generator)
        cube = start.field('cube').numpy()
        yaw = ((2 * torch.rand(len(ids), generator=self.generator) - 1)
               * self.task.config.cube_yaw_range).numpy()
        self.world.reset(ids, cube[:, :2], yaw, apply_variant=self.world.randomize
                         or self.measurement is None)
        self.targets[ids] = self.task.config.home
        self.closed[ids] = False
        self.prev_action[ids] = 0.0
        self.prev_tip[ids] = self.world.tip()[ids]
        self.steps[ids] = 0
        self.returns[torch.as_tensor(ids)] = 0.0

    def _measure(self, ids=None) -> PandaMeasurement:
        """Measure every scene; render the images of ``ids`` only (default all)."""
        w = self.world
        n = self.num_envs
        state = np.zeros((n, MEASUREMENT_DIM), np.float32)
        tip = w.tip()
        state[:, SLICES['tip']] = tip
        state[:, SLICES['tip_vel']] = (tip - self.prev_tip) / self.dt
        self.prev_tip = tip
        state[:, SLICES['fingers']] = w.fingers()
        state[:, SLICES['cube']] = w.cube()
        state[:, SLICES['cube_seen']] = 1.0
        state[:, SLICES['target']] = self.targets
        state[:, SLICES['gripper_closed']] = self.closed[:, None]
        s = self.task.config.image_size
        if ids is None:
            pixels = torch.from_numpy(w.policy_images())
        else:
            pixels = torch.zeros(n, 1, s, s, dtype=torch.uint8)
            pixels[torch.as_tensor(ids)] = torch.from_numpy(w.policy_images(ids))
        return PandaMeasurement(torch.from_numpy(state), pixels)

    def reset(self, *, seed: Optional[int] = None, options=None):
        """Reset every scene; returns (Observation, info)."""
        if seed is not None:
            self.world.rng = np.random.default_rng(seed)
            self.generator.manual_seed(seed)
        self.measurement = None
        self._reset_ids(np.arange(self.num_envs))
        self.measurement = self._measure()
        self.history.reset(self.measurement)
        return self.history.observation(), {}

    def step(self, action):
        """Advance every scene one control period; Gymnasium's (obs, r, term, trunc, info)."""
        action = torch.as_tensor(action, dtype=torch.float32).cpu().clamp(-1.0, 1.0)
        # the command in effect: this action, or the previous one where the scene lags
        act = action.numpy()
        applied = np.where((self.world.delay > 0)[:, None], self.prev_action, act)
        self.prev_action = act.copy()
        tip = torch.from_numpy(self.world.tip()).float()
        applied_t = torch.from_numpy(applied)
        self.targets = self.task.next_target(torch.from_numpy(self.targets).float(), tip,
                                             applied_t).double().numpy()
        self.closed = self.task.gripper_closed(applied_t).numpy()
        self.world.command(self.targets, self.closed, dt=self.dt)
        self.world.step(self.substeps)
        prev = self.measurement
        m = self._measure()
        self.steps += 1
        reward, terminated, truncated, info = task_step(self.task, self.history, prev, m,
                                                        action, self.steps, self.returns)
        done = info['episode_done']
        final_obs = info['final_obs']
        if bool(done.any()):
            ids = np.nonzero(done.numpy())[0]
            self._reset_ids(ids)
            fresh = self._measure(ids)
            rows = torch.as_tensor(ids)
            state, pixels = m.state.clone(), m.pixels.clone()
            state[rows], pixels[rows] = fresh.state[rows], fresh.pixels[rows]
            merged = PandaMeasurement(state, pixels)
            merged.best = m.best
            m = merged
            self.history.reset(m, done)
            obs = self.history.observation()
        else:
            obs = final_obs
        self.measurement = m
        return obs, reward, terminated, truncated, info
