# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Torch-native Gymnasium vector env of N race cars parking (the car's simulator).

Implements the ``rl_core.simulator`` interface: ``RacecarParkingVectorEnv(task, num_envs,
variant=..., randomize=..., device=..., seed=...)``; ``reset``/``step`` take and return
torch tensors on ``device`` (numpy actions are accepted), so thousands of cars step on a GPU
without host copies. Finished envs reset automatically (same-step autoreset).
"""

from typing import Optional

import gymnasium as gym
from racecar_rl_env.dynamics import nominal_params, sample_params, step_dynamics
from racecar_rl_env.task import ACTION_DIM, ParkingTask
from racecar_rl_env.variants import resolve_variant
from rl_core.simulator import spaces_for
import torch


class RacecarParkingVectorEnv(gym.vector.VectorEnv):
    """N cars, each with its own (optionally randomised) dynamics parameters."""

    metadata = {'autoreset_mode': 'SameStep'}

    def __init__(self, task: Optional[ParkingTask] = None, num_envs: int = 1, *,
                 variant='sim', randomize: Optional[bool] = None, device='cpu',
                 seed: int = 0, param_overrides=None):
        """
        Build ``num_envs`` cars of ``variant`` (see ``racecar_rl_env.variants``).

        ``randomize`` (default: the variant's) draws each car's parameters from the
        published ranges at every reset; ``param_overrides`` shift nominal parameters
        further (used when not randomising).
        """
        if num_envs < 1:
            raise ValueError(f'num_envs={num_envs} is out of range: must be >= 1')
        self.task = task if task is not None else ParkingTask()
        self.task_config = self.task.config
        v = resolve_variant(variant, param_overrides)
        self.model = v['model']
        self.randomize = v['randomize'] if randomize is None else bool(randomize)
        self.param_overrides = v['overrides']
        self.num_envs = num_envs
        self.device = torch.device(device)
        (self.single_observation_space, self.single_action_space, self.observation_space,
         self.action_space) = spaces_for(self.task, num_envs)
        self.dt = 1.0 / self.task.control_hz
        self.generator = torch.Generator(self.device).manual_seed(seed)
        self.history = self.task.new_history(num_envs, self.device)
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
        start = self.task.start_measurements(self.num_envs, self.generator, self.device)
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
        return self.history.state(), {}

    def step(self, action):
        """
        Advance every car one control period.

        Returns obs, reward, terminated, truncated and info (tensors of leading size N).
        """
        action = torch.as_tensor(action, dtype=torch.float32, device=self.device)
        action = action.clamp(-1.0, 1.0)
        applied = self.prev_action if self.task.action_delay_steps else action
        prev_state = self.state
        state = step_dynamics(prev_state, applied, self.params, self.model, self.dt)
        self.state = state
        self.prev_action = action
        self.history.push(state, action)
        terms = self.task.reward_terms(prev_state, state, action)
        reward, scaled = self.task.reward(terms)
        self.steps += 1
        self.returns += reward
        terminated, truncated, success, _ = self.task.episode_end(state, self.steps)
        done = terminated | truncated
        final_obs = self.history.state()
        info = {'final_obs': final_obs, 'episode_done': done, 'success': success,
                'episode_return': self.returns.clone(),
                'reward_terms': scaled,
                'metrics': self.task.metrics(state)}
        if bool(done.any()):
            self._reset_where(done)
            obs = self.history.state()
        else:
            obs = final_obs
        return obs, reward, terminated, truncated, info
