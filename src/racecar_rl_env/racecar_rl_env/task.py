# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The race-car parking task, defined once for pretraining, the env node and the sim bridge.

Observation (45): the last ``frame_stack`` frames ``[x, y, sin th, cos th, vx, vy, omega]``
(goal-relative position, oldest first) followed by the last ``action_history`` actions
(oldest first). Reward: named terms x ``reward_scales`` (progress towards the goal, a bonus
inside the goal radius, an action-magnitude cost). Episodes end by termination when the car
leaves the arena and by truncation after ``episode_steps``; success = within ``goal_radius``
of the goal at the end of the episode.
"""

import dataclasses
import math
from typing import Callable, Dict, Tuple

import torch

FRAME_DIM = 7
ACTION_DIM = 2


def _positive(name, value):
    if not value > 0:
        raise ValueError(f'{name}={value!r} is out of range: must be > 0')


@dataclasses.dataclass
class ParkingTaskConfig:
    """Everything that defines the parking task; units are SI (m, rad, s)."""

    control_hz: float = 30.0
    episode_steps: int = 250
    goal: Tuple[float, float] = (0.0, 0.0)
    start_pose: Tuple[float, float, float] = (1.42, -1.04, math.pi)
    # Start-pose noise (uniform +-): a little, so the policy does not memorise one path.
    start_noise: Tuple[float, float, float] = (0.1, 0.1, 0.2)
    goal_radius: float = 0.35
    frame_stack: int = 5
    action_history: int = 5
    # The car reacts to a command one control period later (actuator and radio latency).
    action_delay_steps: int = 1
    # Published arena x [-0.45, 3], y [-2.1, 1.5], each bound multiplied by the margin 1.3
    # (the goal is the origin, so this widens the arena around the goal).
    arena_x: Tuple[float, float] = (-0.45, 3.0)
    arena_y: Tuple[float, float] = (-2.1, 1.5)
    arena_margin: float = 1.3
    reward_scales: Dict[str, float] = dataclasses.field(default_factory=lambda: {
        'distance_progress': 1.0, 'goal_bonus': 1.0, 'action_magnitude': -0.01})

    def __post_init__(self):
        """Refuse values outside their allowed ranges, naming the field."""
        _positive('control_hz', self.control_hz)
        for name in ('episode_steps', 'frame_stack', 'action_history'):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise ValueError(f'{name}={getattr(self, name)!r} is out of range: '
                                 'must be an integer >= 1')
        if self.action_delay_steps not in (0, 1):
            raise ValueError(f'action_delay_steps={self.action_delay_steps!r} is not allowed: '
                             'must be one of 0, 1')
        _positive('goal_radius', self.goal_radius)
        if not self.arena_margin >= 1.0:
            raise ValueError(f'arena_margin={self.arena_margin!r} is out of range: must be >= 1')
        for name in ('arena_x', 'arena_y'):
            low, high = getattr(self, name)
            if not low < high:
                raise ValueError(f'{name}={getattr(self, name)!r} is empty: must be low < high')
        if any(n < 0 for n in self.start_noise):
            raise ValueError(f'start_noise={self.start_noise!r} is out of range: must be >= 0')
        missing = sorted(set(REWARD_TERMS) - set(self.reward_scales))
        unknown = sorted(set(self.reward_scales) - set(REWARD_TERMS))
        if missing or unknown:
            raise ValueError(f'reward_scales must name exactly the terms {sorted(REWARD_TERMS)};'
                             f' missing {missing}, unknown {unknown}')

    @property
    def obs_dim(self) -> int:
        """Size of the stacked observation."""
        return self.frame_stack * FRAME_DIM + self.action_history * ACTION_DIM


def default_config() -> ParkingTaskConfig:
    """Return a fresh task config with the published defaults."""
    return ParkingTaskConfig()


# ------------------------------------------------------------------------- reward terms
def goal_distance(state: torch.Tensor, goal: Tuple[float, float]) -> torch.Tensor:
    """Euclidean distance (m) of each car (N, 6) from the goal."""
    return torch.hypot(state[:, 0] - goal[0], state[:, 1] - goal[1])


def reward_distance_progress(prev_state, state, action, cfg: ParkingTaskConfig):
    """Decrease of the goal distance over the step (m); negative when moving away."""
    return goal_distance(prev_state, cfg.goal) - goal_distance(state, cfg.goal)


def reward_goal_bonus(prev_state, state, action, cfg: ParkingTaskConfig):
    """1 while the car is within the goal radius, else 0."""
    return (goal_distance(state, cfg.goal) <= cfg.goal_radius).float()


def cost_action_magnitude(prev_state, state, action, cfg: ParkingTaskConfig):
    """Euclidean norm of the normalised action (its scale in config is negative)."""
    return action.norm(dim=-1)


REWARD_TERMS: Dict[str, Callable] = {
    'distance_progress': reward_distance_progress,
    'goal_bonus': reward_goal_bonus,
    'action_magnitude': cost_action_magnitude,
}


class ParkingTask:
    """Reward, termination, success and observation of the parking task for N cars."""

    def __init__(self, config: ParkingTaskConfig = None):
        """Use ``config`` or a fresh default one."""
        self.config = config if config is not None else default_config()
        cfg = self.config
        m = cfg.arena_margin
        self.arena = (cfg.arena_x[0] * m, cfg.arena_x[1] * m,
                      cfg.arena_y[0] * m, cfg.arena_y[1] * m)

    def reward_terms(self, prev_state, state, action) -> Dict[str, torch.Tensor]:
        """Unscaled reward terms, each (N,)."""
        return {name: fn(prev_state, state, action, self.config)
                for name, fn in REWARD_TERMS.items()}

    def reward(self, terms: Dict[str, torch.Tensor]
               ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Sum the scaled terms; returns the total (N,) and the scaled terms by name."""
        scaled = {name: self.config.reward_scales[name] * value for name, value in terms.items()}
        return sum(scaled.values()), scaled

    def distance(self, state) -> torch.Tensor:
        """Return the distance to the goal (m), shape (N,)."""
        return goal_distance(state, self.config.goal)

    def is_success(self, state) -> torch.Tensor:
        """Return True where the car is parked within the goal radius."""
        return self.distance(state) <= self.config.goal_radius

    def out_of_arena(self, state) -> torch.Tensor:
        """Return True where the car left the (margin-widened) arena."""
        x0, x1, y0, y1 = self.arena
        x, y = state[:, 0], state[:, 1]
        return (x < x0) | (x > x1) | (y < y0) | (y > y1)

    def frame(self, state) -> torch.Tensor:
        """Build one observation frame per car, shape (N, 7), from states (N, 6)."""
        gx, gy = self.config.goal
        return torch.stack([state[:, 0] - gx, state[:, 1] - gy, torch.sin(state[:, 2]),
                            torch.cos(state[:, 2]), state[:, 3], state[:, 4], state[:, 5]],
                           dim=1)

    def observation(self, frames: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """Stack (N, K, 7) frames and (N, H, 2) actions into (N, obs_dim)."""
        return torch.cat([frames.flatten(1), actions.flatten(1)], dim=1)

    def start_states(self, n: int, generator=None, device='cpu') -> torch.Tensor:
        """Start states (N, 6): the start pose plus uniform noise, at rest."""
        cfg = self.config
        base = torch.tensor(cfg.start_pose, dtype=torch.float32, device=device)
        noise = torch.tensor(cfg.start_noise, dtype=torch.float32, device=device)
        u = torch.rand(n, 3, generator=generator, device=device) * 2 - 1
        pose = base + noise * u
        return torch.cat([pose, torch.zeros(n, 3, device=device)], dim=1)


class ObservationHistory:
    """Frame and action history of N cars; used by the vector env and the env node."""

    def __init__(self, task: ParkingTask, n: int, device='cpu'):
        """Allocate empty histories for ``n`` cars."""
        cfg = task.config
        self.task = task
        self.frames = torch.zeros(n, cfg.frame_stack, FRAME_DIM, device=device)
        self.actions = torch.zeros(n, cfg.action_history, ACTION_DIM, device=device)

    def reset(self, state: torch.Tensor, mask: torch.Tensor = None) -> None:
        """Fill the frame stack with the first frame and zero the actions (where mask)."""
        frame = self.task.frame(state).unsqueeze(1).expand_as(self.frames)
        if mask is None:
            self.frames = frame.clone()
            self.actions = torch.zeros_like(self.actions)
        else:
            m = mask.view(-1, 1, 1)
            self.frames = torch.where(m, frame, self.frames)
            self.actions = torch.where(m, torch.zeros_like(self.actions), self.actions)

    def push(self, state: torch.Tensor, action: torch.Tensor) -> None:
        """Append the newest frame (from state) and the action that led to it."""
        self.frames = torch.cat([self.frames[:, 1:], self.task.frame(state).unsqueeze(1)], 1)
        self.actions = torch.cat([self.actions[:, 1:], action.unsqueeze(1)], 1)

    def observation(self) -> torch.Tensor:
        """Return the current stacked observation, shape (N, obs_dim)."""
        return self.task.observation(self.frames, self.actions)


OBS_DIM = default_config().obs_dim
