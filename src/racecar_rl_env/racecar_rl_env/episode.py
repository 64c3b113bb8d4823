# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Episode protocol of one real (or bridged) car, with no ROS in it.

The env node feeds measured states and agent actions in and publishes what comes out.
The parking task (observation, reward terms, termination) is the same ``ParkingTask``
object the vectorised pretraining env uses, so sim and real cannot disagree on a threshold.
Safety checks (non-finite or stale state, non-finite action, e-stop, watchdog) abort the
episode with a named reason; the caller then commands the car to stop.
"""

import dataclasses
import math
from typing import Dict, List, Optional

from racecar_rl_env.racecar_constants import STATE_FIELDS
from racecar_rl_env.task import ObservationHistory, ParkingTask, ParkingTaskConfig
import torch


@dataclasses.dataclass
class StepResult:
    """What one completed control step produced."""

    obs: List[float]
    action: List[float]
    reward: float
    next_obs: List[float]
    terminated: bool
    truncated: bool
    reward_terms: Dict[str, float]
    step_id: int

    @property
    def done(self) -> bool:
        """Return whether the episode ended with this step."""
        return self.terminated or self.truncated


class SafetyAbort(RuntimeError):
    """The episode must stop now; ``reason`` says why (logged and recorded)."""

    def __init__(self, reason: str):
        """Store the reason."""
        super().__init__(reason)
        self.reason = reason


def check_state(state) -> torch.Tensor:
    """Return the state as a (1, 6) tensor or raise SafetyAbort naming a non-finite field."""
    values = [float(v) for v in state]
    for name, value in zip(STATE_FIELDS, values):
        if not math.isfinite(value):
            raise SafetyAbort(f'non_finite_observation: {name}={value}')
    return torch.tensor([values], dtype=torch.float32)


def steering_and_throttle(action, steering_limit: float, max_throttle: float):
    """Convert a normalised action into (steering angle rad, motor duty); refuse NaN."""
    steer, throttle = (float(a) for a in action)
    if not (math.isfinite(steer) and math.isfinite(throttle)):
        raise SafetyAbort(f'non_finite_action: {[steer, throttle]}')
    steer = min(max(steer, -1.0), 1.0)
    throttle = min(max(throttle, -1.0), 1.0)
    return steering_limit * steer, max_throttle * throttle


class Episode:
    """One episode: start state in, then (action, next state) pairs in, transitions out."""

    def __init__(self, task_config: ParkingTaskConfig, episode_id: int):
        """Create an episode that has not started yet."""
        self.task = ParkingTask(task_config)
        self.config = task_config
        self.episode_id = episode_id
        self.history = ObservationHistory(self.task, 1)
        self.state: Optional[torch.Tensor] = None
        self.step_id = 0
        self.episode_return = 0.0
        self.success = False
        self.ended = False

    def start(self, state) -> List[float]:
        """Begin from a measured state; returns the first observation."""
        self.state = check_state(state)
        self.history.reset(self.state)
        return self.history.observation()[0].tolist()

    def observation(self) -> List[float]:
        """Return the current observation."""
        return self.history.observation()[0].tolist()

    def step(self, action, next_state) -> StepResult:
        """Complete a step: ``action`` was applied, ``next_state`` was then measured."""
        if self.ended:
            raise RuntimeError('episode already ended')
        action_t = torch.tensor([[float(a) for a in action]], dtype=torch.float32)
        if not torch.isfinite(action_t).all():
            raise SafetyAbort(f'non_finite_action: {action_t[0].tolist()}')
        action_t = action_t.clamp(-1.0, 1.0)
        next_state_t = check_state(next_state)
        obs = self.observation()
        terms = self.task.reward_terms(self.state, next_state_t, action_t)
        reward, scaled = self.task.reward(terms)
        self.history.push(next_state_t, action_t)
        self.state = next_state_t
        self.step_id += 1
        terminated = bool(self.task.out_of_arena(next_state_t)[0])
        truncated = (not terminated) and self.step_id >= self.config.episode_steps
        self.episode_return += float(reward[0])
        if terminated or truncated:
            self.ended = True
            self.success = (not terminated) and bool(self.task.is_success(next_state_t)[0])
        return StepResult(obs=obs, action=action_t[0].tolist(), reward=float(reward[0]),
                          next_obs=self.observation(), terminated=terminated,
                          truncated=truncated,
                          reward_terms={k: float(v[0]) for k, v in scaled.items()},
                          step_id=self.step_id - 1)


def _spec(*args, **kwargs):
    from rl_core.config_spec import spec
    return spec(*args, **kwargs)


@dataclasses.dataclass
class EnvNodeConfig:
    """Episode-protocol and safety settings of the race-car env node (ROS parameters)."""

    control_hz: float = _spec(30.0, 'Control rate (Hz).', low=1.0, high=1000.0,
                              read_only=True)
    episode_steps: int = _spec(250, 'Steps per episode.', low=1, high=100000)
    action_timeout_s: float = _spec(0.1, 'Watchdog: stop when no action arrives within this '
                                    'time after an observation (s).', low=0.001, high=10.0)
    state_timeout_s: float = _spec(0.2, 'Abort when the newest state is older than this (s).',
                                   low=0.001, high=10.0)
    warmup_s: float = _spec(0.3, 'Wait after a reset before the first observation (s).',
                            low=0.0, high=60.0)
    require_operator_ack: bool = _spec(False, 'Wait for /rl/operator_ack before each '
                                       'episode (hardware).')
    reset_service: str = _spec('/sim/reset', "Service placing the car at the start ('' on "
                               'hardware: the operator places it).')
    steering_limit: float = _spec(0.6, 'Steering angle at action 1 (rad).', low=0.01,
                                  high=1.5)
    max_throttle: float = _spec(0.4, 'Motor duty at action 1.', low=0.0, high=1.0)
    trial_id: str = _spec('trial', 'Name recorded with every transition.')
    recorder_node: str = _spec('rl_replay', 'Refuse to start an episode until this node '
                               'subscribes to /rl/transitions, so no transition goes '
                               "unrecorded ('': do not wait).")

    def __post_init__(self):
        """Validate every field against its declared range."""
        from rl_core import config_spec
        config_spec.validate(self)
