# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Torch-native Gymnasium vector env of N race cars parking (for pretraining).

``reset``/``step`` take and return torch tensors on ``device`` (numpy actions are accepted),
so thousands of cars step on a GPU without host copies. Finished envs reset automatically
(Gymnasium's same-step autoreset): the returned observation is the new episode's first one
and ``info['final_obs']`` holds every env's true last observation of this step.
"""

from typing import Optional

import gymnasium as gym
import numpy as np
from racecar_rl_env.dynamics import nominal_params, sample_params, step_dynamics
from racecar_rl_env.task import ACTION_DIM, default_config, ObservationHistory, ParkingTask
import torch


class RacecarParkingVectorEnv(gym.vector.VectorEnv):
    """N cars, each with its own (optionally randomised) dynamics parameters."""

    metadata = {'autoreset_mode': 'SameStep'}

    def __init__(self, num_envs: int, model: str = 'kinematic', randomize: bool = True,
                 device='cpu', seed: int = 0, config=None, param_overrides=None):
        """
        Build ``num_envs`` cars using ``model`` ('kinematic' or 'pacejka') dynamics.

        ``param_overrides`` shift nominal parameters (used when ``randomize`` is False),
        e.g. the 'real' car of a sim-to-sim experiment.
        """
        if num_envs < 1:
            raise ValueError(f'num_envs={num_envs} is out of range: must be >= 1')
        if model not in ('kinematic', 'pacejka'):
            raise ValueError(f"model={model!r} is not allowed: must be 'kinematic' or 'pacejka'")
        self.task_config = config if config is not None else default_config()
        self.task = ParkingTask(self.task_config)
        self.num_envs = num_envs
        self.model = model
        self.randomize = randomize
        self.param_overrides = dict(param_overrides or {})
        self.device = torch.device(device)
        obs_dim = self.task_config.obs_dim
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.single_action_space = gym.spaces.Box(-1.0, 1.0, (ACTION_DIM,), np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.dt = 1.0 / self.task_config.control_hz
        self.generator = torch.Generator(self.device).manual_seed(seed)
        self.history = ObservationHistory(self.task, num_envs, self.device)
        self.state = torch.zeros(num_envs, 6, device=self.device)
        self.params = self._new_params(num_envs)
        self.prev_action = torch.zeros(num_envs, ACTION_DIM, device=self.device)
        self.steps = torch.zeros(num_envs, dtype=torch.long, device=self.device)
        self.returns = torch.zeros(num_envs, device=self.device)

    def _new_params(self, n):
        if self.randomize:
            return sample_params(n, self.generator, self.device)
        return nominal_params(n, self.device, self.param_overrides)

    def _reset_where(self, mask: torch.Tensor) -> None:
        start = self.task.start_states(self.num_envs, self.generator, self.device)
        self.state = torch.where(mask.unsqueeze(1), start, self.state)
        if self.randomize:
            self.params = self.params.select(mask, self._new_params(self.num_envs))
        self.history.reset(self.state, mask)
        self.prev_action = torch.where(mask.unsqueeze(1), 0.0, self.prev_action)
        self.steps = torch.where(mask, 0, self.steps)
        self.returns = torch.where(mask, 0.0, self.returns)

    def reset(self, *, seed: Optional[int] = None, options=None):
        """Reset every env; returns (obs (N, obs_dim), info)."""
        if seed is not None:
            self.generator.manual_seed(seed)
        self.params = self._new_params(self.num_envs)
        self._reset_where(torch.ones(self.num_envs, dtype=torch.bool, device=self.device))
        return self.history.observation(), {}

    def step(self, action):
        """
        Advance every car one control period.

        Returns obs, reward, terminated, truncated and info (tensors of leading size N).
        """
        action = torch.as_tensor(action, dtype=torch.float32, device=self.device)
        action = action.clamp(-1.0, 1.0)
        applied = self.prev_action if self.task_config.action_delay_steps else action
        prev_state = self.state
        state = step_dynamics(prev_state, applied, self.params, self.model, self.dt)
        self.state = state
        self.prev_action = action
        self.history.push(state, action)
        terms = self.task.reward_terms(prev_state, state, action)
        reward, scaled = self.task.reward(terms)
        self.steps += 1
        self.returns += reward
        finite = torch.isfinite(state).all(dim=1)
        terminated = self.task.out_of_arena(state) | ~finite
        truncated = (self.steps >= self.task_config.episode_steps) & ~terminated
        done = terminated | truncated
        final_obs = self.history.observation()
        info = {'final_obs': final_obs, 'episode_done': done,
                'success': done & ~terminated & self.task.is_success(state),
                'episode_return': self.returns.clone(),
                'final_distance': self.task.distance(state),
                'reward_terms': scaled}
        if bool(done.any()):
            self._reset_where(done)
            obs = self.history.observation()
        else:
            obs = final_obs
        return obs, reward, terminated, truncated, info
