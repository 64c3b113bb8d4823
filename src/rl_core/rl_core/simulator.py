# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The batched simulator interface: N environments of one task, Gymnasium's vector API.

A robot's simulator is a ``gymnasium.vector.VectorEnv`` built as
``Simulator(task, num_envs, *, variant='sim', randomize=True, device='cpu', seed=0)``
whose ``reset``/``step`` take and return torch tensors on ``device`` (numpy actions are
accepted). Observations are a (N, state_dim) tensor, or an ``rl_core.task.Observation``
(state, uint8 pixels) for pixel tasks. Finished environments reset in the same step
(Gymnasium's same-step autoreset) and ``info`` carries, for every environment:

- ``final_obs``: the true last observation of this step (before any reset);
- ``episode_done``: (N,) bool, an episode ended this step;
- ``success``: (N,) bool, it ended in success (meaningful where ``episode_done``);
- ``episode_return``: (N,) the return of the episode so far (its final return where done);
- ``reward_terms``: scaled reward terms of this step by name, each (N,);
- ``metrics``: the task's metrics of the state reached (``Task.metrics``), each (N,).

``variant`` names a parameter set of the simulator: 'sim' (what pretraining randomises
around) and the robot's "real" variant (the shifted robot of a sim-to-sim experiment),
so the sim bridge and the offline evaluation of a policy use one definition.
"""

import gymnasium as gym
import numpy as np
from rl_core.task import Observation
import torch

INFO_KEYS = ('final_obs', 'episode_done', 'success', 'episode_return', 'reward_terms',
             'metrics')


def spaces_for(task, num_envs: int):
    """Gymnasium single and batched observation/action spaces of a task."""
    spec = task.observation_spec
    state = gym.spaces.Box(-np.inf, np.inf, (spec.state_dim,), np.float32)
    if spec.has_pixels:
        single_obs = gym.spaces.Dict({
            'state': state,
            'pixels': gym.spaces.Box(0, 255, tuple(spec.pixel_shape), np.uint8)})
    else:
        single_obs = state
    single_act = gym.spaces.Box(-1.0, 1.0, (task.action_spec.dim,), np.float32)
    return (single_obs, single_act, gym.vector.utils.batch_space(single_obs, num_envs),
            gym.vector.utils.batch_space(single_act, num_envs))


def select_obs(mask: torch.Tensor, a, b):
    """Where ``mask`` (N,) take observation ``a`` else ``b`` (tensor or Observation)."""
    if isinstance(a, Observation):
        pix = None
        if a.pixels is not None:
            pix = torch.where(mask.view(-1, 1, 1, 1), a.pixels, b.pixels)
        return Observation(torch.where(mask.unsqueeze(-1), a.state, b.state), pix)
    return torch.where(mask.unsqueeze(-1), a, b)


def task_step(task, history, prev, m, action, steps, returns, observe=None):
    """
    Do the task's part of one vector-env step (shared by the robots' simulators).

    Computes the reward of ``prev`` -> ``m`` under ``action`` with the task's terms, pushes
    ``m`` into the observation ``history``, adds the reward to ``returns`` (in place) and
    decides termination (the task's) and truncation (``steps``, already counting this step,
    reaching ``episode_steps``). Returns (reward, terminated, truncated, info) with the
    ``INFO_KEYS``; ``final_obs`` is ``observe()`` (default ``history.observation``) of the
    state reached, before any reset.
    """
    terms = task.reward_terms(prev, m, action)
    reward, scaled = task.reward(terms)
    history.push(m, action)
    returns += reward
    terminated, truncated, success, _ = task.episode_end(m, steps)
    done = terminated | truncated
    final_obs = (observe or history.observation)()
    info = {'final_obs': final_obs, 'episode_done': done, 'success': success,
            'episode_return': returns.clone(), 'reward_terms': scaled,
            'metrics': task.metrics(m)}
    return reward, terminated, truncated, info
