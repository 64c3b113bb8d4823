# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
N Go1 robots in MuJoCo, stepped together by ``mujoco.batch`` (the Go1's simulator).

Implements the ``rl_core.simulator`` interface (Gymnasium vector API, torch in and out,
same-step autoreset, the standard ``info`` keys). Each 50 Hz control step writes the PD
targets into ``ctrl`` and lets ``mujoco.batch.Batch`` run the 5 physics substeps of 0.004 s
on its thread pool with the GIL released; the PD law itself is MuJoCo's position actuator
(kp, kv, torque limits as force ranges), so it is re-evaluated every substep without Python.
Measurements, reward, commands, resets and domain randomisation are numpy/torch over all
robots at once (``bench_throughput`` measures their cost against raw stepping).
"""

import os
from typing import Optional

from go1_rl_env import model
from go1_rl_env.task import Go1JoystickTask, gravity_from_quat, MEASUREMENT_DIM, SLICES
from go1_rl_env.variants import RANDOMIZATION, resolve_variant
import gymnasium as gym
import mujoco
from mujoco import batch as mj_batch
import numpy as np
from rl_core.simulator import spaces_for, task_step
import torch

SUBSTEPS_DEFAULT = 5


class Go1JoystickVectorEnv(gym.vector.VectorEnv):
    """N Go1s on flat ground; ``variant`` names a parameter set (see ``variants``)."""

    metadata = {'autoreset_mode': 'SameStep'}

    def __init__(self, task: Optional[Go1JoystickTask] = None, num_envs: int = 1, *,
                 variant='sim', randomize: Optional[bool] = None, device='cpu',
                 seed: int = 0, nthread: Optional[int] = None):
        """Build ``num_envs`` robots of ``variant`` stepped on ``nthread`` threads."""
        if num_envs < 1:
            raise ValueError(f'num_envs={num_envs} is out of range: must be >= 1')
        self.task = task if task is not None else Go1JoystickTask()
        self.task_config = self.task.config
        self.variant = resolve_variant(variant)
        self.randomize = self.variant['randomize'] if randomize is None else bool(randomize)
        self.num_envs = num_envs
        self.device = torch.device(device)
        (self.single_observation_space, self.single_action_space, self.observation_space,
         self.action_space) = spaces_for(self.task, num_envs)
        cfg = self.task.config
        self.model = model.load('position', kp=cfg.kp, kd=cfg.kd)
        dt = 1.0 / self.task.control_hz
        self.substeps = max(1, int(round(dt / self.model.opt.timestep)))
        self.dt = self.substeps * self.model.opt.timestep
        self.rng = np.random.default_rng(seed)
        self.generator = torch.Generator().manual_seed(seed)
        nthread = nthread if nthread is not None else min(2, os.cpu_count() or 1)
        self.batch = mj_batch.Batch(self.model, num_envs, nthread=nthread, persistent=True)
        b = self.batch
        self.qpos = b.bind('qpos')
        self.qvel = b.bind('qvel')
        self.ctrl = b.bind('ctrl')
        self.sensordata = b.bind('sensordata')
        self.actuator_force = b.bind('actuator_force')
        self.site_xpos = b.bind('site_xpos')
        m = self.model
        self.foot_sites = np.array([mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, f)
                                    for f in model.FOOT_NAMES])
        self.floor = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, 'floor')
        self.trunk = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, 'trunk')
        adr = {n: m.sensor_adr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SENSOR, n)]
               for n in ('gyro', 'local_linvel')}
        self.gyro_adr, self.linvel_adr = adr['gyro'], adr['local_linvel']
        # per-simulation model fields for randomisation and the variant
        self.geom_friction = b.expand('geom_friction')
        self.body_mass = b.expand('body_mass')
        self.body_ipos = b.expand('body_ipos')
        self.dof_frictionloss = b.expand('dof_frictionloss')
        self.dof_armature = b.expand('dof_armature')
        self.gainprm = b.expand('actuator_gainprm')
        self.biasprm = b.expand('actuator_biasprm')
        self.forcerange = b.expand('actuator_forcerange')
        self.nominal = {k: np.array(getattr(m, k)) for k in (
            'geom_friction', 'body_mass', 'body_ipos', 'dof_frictionloss', 'dof_armature',
            'actuator_gainprm', 'actuator_biasprm', 'actuator_forcerange')}
        self._apply_variant(np.arange(num_envs))
        self.history = self.task.new_history(num_envs, self.device, noise=True,
                                             generator=self.generator)
        self.commands = np.zeros((num_envs, 3), np.float32)
        self.q_target = np.tile(np.array(model.DEFAULT_POSE, np.float32), (num_envs, 1))
        self.prev_ctrl = self.q_target.copy()
        self.prev_foot = np.zeros((num_envs, 4, 3))
        self.steps = np.zeros(num_envs, np.int64)
        self.returns = torch.zeros(num_envs)
        self.measurement = torch.zeros(num_envs, MEASUREMENT_DIM)
        self.key_home = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_KEY, 'home')

    # ------------------------------------------------------------------ parameters
    def _apply_variant(self, ids: np.ndarray) -> None:
        """Write the variant's (or freshly randomised) model parameters of ``ids``."""
        v, nom, n = self.variant, self.nominal, len(ids)
        r = RANDOMIZATION
        if self.randomize:
            friction = self.rng.uniform(*r['friction'], n)
            mass_scale = self.rng.uniform(*r['link_mass_scale'], (n, self.model.nbody))
            extra = self.rng.uniform(*r['torso_extra_mass'], n)
            com = self.rng.uniform(-r['torso_com_shift'], r['torso_com_shift'], (n, 3))
            fl = self.rng.uniform(*r['frictionloss_scale'], (n, self.model.nv))
            arm = self.rng.uniform(*r['armature_scale'], (n, self.model.nv))
        else:
            friction = np.full(n, v['friction'])
            mass_scale = np.full((n, self.model.nbody), v['mass_scale'])
            extra = np.full(n, v['torso_extra_mass'])
            com = np.tile(np.array(v['torso_com_shift']), (n, 1))
            fl = np.ones((n, self.model.nv))
            arm = np.ones((n, self.model.nv))
        self.geom_friction[ids] = nom['geom_friction']
        self.geom_friction[ids, self.floor, 0] = friction
        mass = nom['body_mass'] * mass_scale
        mass[:, self.trunk] += extra
        self.body_mass[ids] = mass
        ipos = np.repeat(nom['body_ipos'][None], n, 0)
        ipos[:, self.trunk] += com
        self.body_ipos[ids] = ipos
        self.dof_frictionloss[ids] = nom['dof_frictionloss'] * fl
        self.dof_armature[ids] = nom['dof_armature'] * arm
        s = v['motor_strength']
        self.gainprm[ids] = nom['actuator_gainprm'] * s
        self.biasprm[ids] = nom['actuator_biasprm'] * s
        self.forcerange[ids] = nom['actuator_forcerange'] * s
        self.batch.set_const(ids)

    # ------------------------------------------------------------------ measurement
    def _measure(self) -> torch.Tensor:
        n = self.num_envs
        out = np.empty((n, MEASUREMENT_DIM), np.float32)
        quat = self.qpos[:, 3:7]
        out[:, SLICES['gravity']] = gravity_from_quat(torch.from_numpy(quat)).numpy()
        sd = self.sensordata
        out[:, SLICES['linvel']] = sd[:, self.linvel_adr:self.linvel_adr + 3]
        out[:, SLICES['gyro']] = sd[:, self.gyro_adr:self.gyro_adr + 3]
        out[:, SLICES['q']] = self.qpos[:, 7:19]
        out[:, SLICES['dq']] = self.qvel[:, 6:18]
        out[:, SLICES['tau']] = self.actuator_force
        out[:, SLICES['q_target']] = self.q_target
        out[:, SLICES['command']] = self.commands
        feet = self.site_xpos[:, self.foot_sites]
        height = feet[:, :, 2] - model.FOOT_RADIUS
        out[:, SLICES['foot_height']] = height
        out[:, SLICES['foot_contact']] = height < 0.005
        out[:, SLICES['foot_vel']] = ((feet[:, :, :2] - self.prev_foot[:, :, :2])
                                      / self.dt).reshape(n, 8)
        self.prev_foot = feet.copy()
        out[:, SLICES['air_time']] = 0.0     # gait state: the task's reward_terms fill it
        out[:, SLICES['swing_peak']] = 0.0
        return torch.from_numpy(out)

    def _reset_ids(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        if self.randomize:
            self._apply_variant(ids)
        self.batch.reset(ids, keyframe=self.key_home, stage=mujoco.mjtStage.mjSTAGE_NONE)
        start = self.task.start_measurements(len(ids), self.generator)
        q = start[:, SLICES['q']].numpy()
        qpos = self.qpos[ids]
        qpos[:, 7:19] = q
        self.qpos[ids] = qpos
        self.commands[ids] = start[:, SLICES['command']].numpy()
        self.q_target[ids] = np.array(model.DEFAULT_POSE, np.float32)
        self.prev_ctrl[ids] = self.q_target[ids]
        ctrl = self.ctrl[ids]
        ctrl[:] = self.q_target[ids]
        self.ctrl[ids] = ctrl
        self.batch.forward(ids, stage=mujoco.mjtStage.mjSTAGE_VEL)
        self.prev_foot[ids] = self.site_xpos[ids][:, self.foot_sites]
        self.steps[ids] = 0
        self.returns[torch.as_tensor(ids)] = 0.0

    def reset(self, *, seed: Optional[int] = None, options=None):
        """Reset every robot; returns (obs (N, 48), info)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
            self.generator.manual_seed(seed)
        self._reset_ids(np.arange(self.num_envs))
        self.measurement = self._measure()
        self.history.reset(self.measurement)
        return self.history.state(), {}

    def step(self, action):
        """Advance every robot one control period; Gymnasium's (obs, r, term, trunc, info)."""
        action = torch.as_tensor(action, dtype=torch.float32).cpu().clamp(-1.0, 1.0)
        target = self.task.joint_targets(action).numpy()
        lat = self.variant['latency_substeps']
        if lat:
            self.ctrl[:] = self.prev_ctrl
            self.batch.step(nstep=min(lat, self.substeps))
        self.ctrl[:] = target
        if self.substeps > lat:
            self.batch.step(nstep=self.substeps - lat, stage=mujoco.mjtStage.mjSTAGE_VEL)
        self.prev_ctrl = target
        self.q_target = target
        prev = self.measurement
        m = self._measure()
        # commands resample at exponential intervals (after the reward of this step)
        self.steps += 1
        reward, terminated, truncated, info = task_step(self.task, self.history, prev, m,
                                                        action, self.steps, self.returns,
                                                        observe=self.history.state)
        done = info['episode_done']
        final_obs = info['final_obs']
        resample = self.task.resample_mask(self.num_envs, self.generator).numpy()
        if resample.any():
            idx = np.nonzero(resample)[0]
            self.commands[idx] = self.task.sample_commands(
                len(idx), self.generator, previous=torch.from_numpy(self.commands[idx])).numpy()
            m[torch.as_tensor(idx), SLICES['command']] = torch.from_numpy(self.commands[idx])
        if bool(done.any()):
            ids = np.nonzero(done.numpy())[0]
            self._reset_ids(ids)
            fresh = self._measure()
            mask = done.unsqueeze(1)
            m = torch.where(mask, fresh, m)
            self.history.reset(m, done)
            obs = self.history.state()
        else:
            self.history.measurement = m
            obs = final_obs if not resample.any() else self.history.state()
        self.measurement = m
        return obs, reward, terminated, truncated, info
