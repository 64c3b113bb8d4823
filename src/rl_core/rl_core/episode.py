# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The episode protocol of one robot, with no ROS in it (any robot, any task).

The environment node feeds measurements and agent actions in and publishes what comes out.
Observation, reward terms, termination and success come from the same ``Task`` object the
vectorised pretraining simulator uses, so sim and real cannot disagree on a threshold.
A non-finite measurement or action raises ``SafetyAbort`` with a named reason; the caller
then commands the robot to stop.
"""

import dataclasses
import math
from typing import Dict, List, Optional

from rl_core.task import Observation, SafetyAbort
import torch


@dataclasses.dataclass
class StepResult:
    """What one completed control step produced (one robot)."""

    obs: Observation
    action: List[float]
    reward: float
    next_obs: Observation
    terminated: bool
    truncated: bool
    reward_terms: Dict[str, float]
    step_id: int
    reason: str = ''

    @property
    def done(self) -> bool:
        """Return whether the episode ended with this step."""
        return self.terminated or self.truncated


def check_action(action, dim: int) -> torch.Tensor:
    """Return a (1, dim) action tensor clipped to [-1, 1]; refuse NaN/inf or wrong length."""
    values = [float(a) for a in action]
    if len(values) != dim:
        raise SafetyAbort(f'invalid_action: {len(values)} values, the task has {dim}')
    if not all(math.isfinite(v) for v in values):
        raise SafetyAbort(f'non_finite_action: {values}')
    return torch.tensor([values], dtype=torch.float32).clamp(-1.0, 1.0)


def first(obs: Observation) -> Observation:
    """Keep robot 0 of a batched observation (leading dimension stays 1)."""
    return Observation(obs.state[:1], None if obs.pixels is None else obs.pixels[:1])


class Episode:
    """One episode: a start measurement, then (action, next measurement) pairs."""

    def __init__(self, task, episode_id: int):
        """Create an episode of ``task`` that has not started yet."""
        self.task = task
        self.episode_id = episode_id
        self.history = task.new_history(1)
        self.measurement = None
        self.step_id = 0
        self.episode_return = 0.0
        self.term_returns: Dict[str, float] = dict.fromkeys(task.REWARD_TERMS, 0.0)
        self.success = False
        self.ended = False
        self.final_metrics: Dict[str, float] = {}

    def start(self, measurement) -> Observation:
        """Begin from a measured state; returns the first observation."""
        self.task.check_measurement(measurement)
        violation = self.task.safety_violation(measurement)
        if violation:
            raise SafetyAbort(violation)
        self.measurement = measurement
        self.history.reset(measurement)
        return self.observation()

    def observation(self) -> Observation:
        """Return the current observation, a batch of one."""
        return first(self.history.observation())

    def step(self, action, next_measurement) -> StepResult:
        """Complete a step: ``action`` was applied, ``next_measurement`` was then taken."""
        if self.ended:
            raise RuntimeError('episode already ended')
        action_t = check_action(action, self.task.action_spec.dim)
        self.task.check_measurement(next_measurement)
        violation = self.task.safety_violation(next_measurement)
        if violation:
            raise SafetyAbort(violation)
        obs = self.observation()
        terms = self.task.reward_terms(self.measurement, next_measurement, action_t)
        reward, scaled = self.task.reward(terms)
        self.history.push(next_measurement, action_t)
        self.measurement = next_measurement
        self.step_id += 1
        ends = self.task.episode_end(next_measurement, self.step_id)
        terminated, truncated, success, failed = (bool(v[0]) for v in ends)
        self.episode_return += float(reward[0])
        scaled_now = {k: float(v[0]) for k, v in scaled.items()}
        for name, value in scaled_now.items():
            self.term_returns[name] += value
        reason = ''
        if terminated or truncated:
            self.ended = True
            self.success = success
            reason = (self.task.termination_reason(next_measurement) if failed
                      else 'success' if terminated else 'time_limit')
            self.final_metrics = {k: float(v[0])
                                  for k, v in self.task.metrics(next_measurement).items()}
        return StepResult(obs=obs, action=action_t[0].tolist(), reward=float(reward[0]),
                          next_obs=self.observation(), terminated=terminated,
                          truncated=truncated, reward_terms=scaled_now,
                          step_id=self.step_id - 1, reason=reason)

    def metrics(self, extra: Optional[Dict[str, float]] = None) -> Dict[str, float]:
        """Return per-term returns ('reward/<term>') and the task's final metrics."""
        out = {f'reward/{k}': v for k, v in self.term_returns.items()}
        out.update(self.final_metrics)
        out.update(extra or {})
        return {k: (v if math.isfinite(v) else 0.0) for k, v in out.items()}
