# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The race-car parking task, defined once for pretraining, the env node and the sim bridge.

Measurement: the car state ``[px, py, theta, vx, vy, omega]`` (N, 6). Observation (45):
the last ``frame_stack`` frames ``[x, y, sin th, cos th, vx, vy, omega]`` (goal-relative
position, oldest first) followed by the last ``action_history`` actions (oldest first).
Reward: named terms x ``reward_scales`` (progress towards the goal, a bonus inside the goal
radius, an action-magnitude cost). Episodes end by termination when the car leaves the
arena and by truncation after ``episode_steps``; success = within ``goal_radius`` of the
goal at the end of the episode. Actions [steer, throttle] in [-1, 1] become a steering
angle (``steering_limit`` rad at 1) and a motor duty (``max_throttle`` at 1).
"""

import dataclasses
import math
from typing import Dict, Tuple

from racecar_rl_env.racecar_constants import ACTION_FIELDS, STATE_FIELDS
from rl_core import config_spec
from rl_core.config_spec import spec
from rl_core.task import ActionSpec, Observation, ObservationSpec, Task
import torch

FRAME_DIM = 7
ACTION_DIM = 2


@dataclasses.dataclass
class ParkingTaskConfig:
    """Everything that defines the parking task; units are SI (m, rad, s)."""

    control_hz: float = spec(30.0, 'Control rate (Hz).', low=1.0, high=1000.0)
    episode_steps: int = spec(250, 'Steps after which an episode is truncated.', low=1,
                              high=1_000_000)
    goal: Tuple[float, ...] = spec((0.0, 0.0), 'Goal position (x, y) in the world (m).')
    start_pose: Tuple[float, ...] = spec((1.42, -1.04, math.pi), 'Start pose (x m, y m, '
                                         'yaw rad).')
    # A little noise, so the policy does not memorise one path.
    start_noise: Tuple[float, ...] = spec((0.1, 0.1, 0.2), 'Uniform +- noise on the start '
                                          'pose (m, m, rad).', low=0.0)
    goal_radius: float = spec(0.35, 'Success radius around the goal (m).', low=1e-3,
                              high=10.0)
    frame_stack: int = spec(5, 'Observation frames stacked.', low=1, high=100)
    action_history: int = spec(5, 'Past actions in the observation.', low=1, high=100)
    # The car reacts to a command one control period later (actuator and radio latency).
    action_delay_steps: int = spec(1, 'Control periods between a command and its effect.',
                                   choices=(0, 1))
    # Published arena x [-0.45, 3], y [-2.1, 1.5], each bound multiplied by the margin 1.3
    # (the goal is the origin, so this widens the arena around the goal).
    arena_x: Tuple[float, ...] = spec((-0.45, 3.0), 'Arena x bounds before the margin (m).')
    arena_y: Tuple[float, ...] = spec((-2.1, 1.5), 'Arena y bounds before the margin (m).')
    arena_margin: float = spec(1.3, 'Factor widening the arena bounds.', low=1.0, high=10.0)
    steering_limit: float = spec(0.6, 'Steering angle at action 1 (rad, servo calibration).',
                                 low=0.01, high=1.5)
    max_throttle: float = spec(0.4, 'Motor duty at action 1.', low=0.0, high=1.0)
    # Safety limit of the robot (like the Panda's tip-speed limit): exceeding it aborts the
    # episode on the car and brakes it; it is not part of the MDP, so simulators do not
    # terminate on it (as a termination, even a 4 m/s limit changed what pretraining
    # learned: pi0 then parked 60 % of real-car episodes). 6 m/s is above the 5.3 m/s the
    # parking policy reaches in simulation (100 randomised cars): it stops a runaway car.
    max_speed: float = spec(6.0, 'Speed limit (m/s) on the robot.', low=0.1, high=50.0)
    reward_scales: Dict[str, float] = spec(
        {'distance_progress': 1.0, 'goal_bonus': 1.0, 'action_magnitude': -0.01},
        'Scale of each named reward term.')

    def __post_init__(self):
        """Refuse values outside their allowed ranges, naming the field."""
        config_spec.validate(self)
        for name in ('arena_x', 'arena_y'):
            low, high = getattr(self, name)
            if not low < high:
                raise ValueError(f'{name}={getattr(self, name)!r} is empty: must be low < high')
        for name, size in (('goal', 2), ('start_pose', 3), ('start_noise', 3)):
            if len(getattr(self, name)) != size:
                raise ValueError(f'{name}={getattr(self, name)!r} must have {size} values')

    @property
    def obs_dim(self) -> int:
        """Size of the stacked observation."""
        return self.frame_stack * FRAME_DIM + self.action_history * ACTION_DIM


def default_config() -> ParkingTaskConfig:
    """Return a fresh task config with the published defaults."""
    return ParkingTaskConfig()


# ------------------------------------------------------------------------- reward terms
def goal_distance(state: torch.Tensor, goal) -> torch.Tensor:
    """Euclidean distance (m) of each car (N, 6) from the goal."""
    return torch.hypot(state[:, 0] - goal[0], state[:, 1] - goal[1])


def reward_distance_progress(task, prev_state, state, action):
    """Decrease of the goal distance over the step (m); negative when moving away."""
    return goal_distance(prev_state, task.config.goal) - goal_distance(state, task.config.goal)


def reward_goal_bonus(task, prev_state, state, action):
    """1 while the car is within the goal radius, else 0."""
    return (goal_distance(state, task.config.goal) <= task.config.goal_radius).float()


def cost_action_magnitude(task, prev_state, state, action):
    """Euclidean norm of the normalised action (its scale in config is negative)."""
    return action.norm(dim=-1)


class ObservationHistory:
    """Frame and action history of N cars; used by the vector env and the env node."""

    def __init__(self, task: 'ParkingTask', n: int, device='cpu'):
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

    def state(self) -> torch.Tensor:
        """Return the current stacked observation vector, shape (N, obs_dim)."""
        return torch.cat([self.frames.flatten(1), self.actions.flatten(1)], dim=1)

    def observation(self) -> Observation:
        """Return the current observation; the car has no camera, so no pixels."""
        return Observation(self.state())


class ParkingTask(Task):
    """Reward, termination, success and observation of the parking task for N cars."""

    NAME = 'racecar_parking'
    CONFIG = ParkingTaskConfig
    REWARD_TERMS = {
        'distance_progress': reward_distance_progress,
        'goal_bonus': reward_goal_bonus,
        'action_magnitude': cost_action_magnitude,
    }
    # Safe to change on the robot without retraining: episode length, start noise, goal
    # radius (the success criterion) and the arena (a smaller lab).
    OVERRIDABLE = frozenset({'episode_steps', 'start_noise', 'goal_radius', 'arena_x',
                             'arena_y', 'arena_margin'})
    MEASUREMENT_FIELDS = STATE_FIELDS

    def __init__(self, config: ParkingTaskConfig = None):
        """Use ``config`` or a fresh default one."""
        super().__init__(config)
        cfg = self.config
        m = cfg.arena_margin
        self.arena = (cfg.arena_x[0] * m, cfg.arena_x[1] * m,
                      cfg.arena_y[0] * m, cfg.arena_y[1] * m)

    @property
    def observation_spec(self) -> ObservationSpec:
        """Return the observation: stacked frames and past actions, no pixels."""
        return ObservationSpec(self.config.obs_dim)

    @property
    def action_spec(self) -> ActionSpec:
        """Return the normalised [steer, throttle] action."""
        return ActionSpec(ACTION_DIM, ACTION_FIELDS)

    def distance(self, state) -> torch.Tensor:
        """Return the distance to the goal (m), shape (N,)."""
        return goal_distance(state, self.config.goal)

    def success(self, state) -> torch.Tensor:
        """Return True where the car is parked within the goal radius."""
        return self.distance(state) <= self.config.goal_radius

    def terminated(self, state) -> torch.Tensor:
        """Return True where the car left the (margin-widened) arena or its state broke."""
        x0, x1, y0, y1 = self.arena
        x, y = state[:, 0], state[:, 1]
        outside = (x < x0) | (x > x1) | (y < y0) | (y > y1)
        return outside | ~torch.isfinite(state).all(dim=1)

    def speed(self, state) -> torch.Tensor:
        """Return the planar speed in m/s, shape (N,)."""
        return torch.hypot(state[:, 3], state[:, 4])

    def over_speed(self, state) -> torch.Tensor:
        """Return True where the car is faster than the speed limit."""
        return self.speed(state) > self.config.max_speed

    def safety_violation(self, state) -> str:
        """Return 'speed_limit: ...' when the car is faster than ``max_speed``."""
        speed = float(self.speed(state)[0])
        if speed > self.config.max_speed:
            return f'speed_limit: {speed:.2f} m/s > {self.config.max_speed:g} m/s'
        return ''

    def termination_reason(self, state) -> str:
        """Return the reason of a termination: the car left the arena."""
        return 'out_of_arena'

    def metrics(self, state) -> Dict[str, torch.Tensor]:
        """Return the final distance to the goal (m)."""
        return {'final_distance': self.distance(state)}

    def frame(self, state) -> torch.Tensor:
        """Build one observation frame per car, shape (N, 7), from states (N, 6)."""
        gx, gy = self.config.goal
        return torch.stack([state[:, 0] - gx, state[:, 1] - gy, torch.sin(state[:, 2]),
                            torch.cos(state[:, 2]), state[:, 3], state[:, 4], state[:, 5]],
                           dim=1)

    def new_history(self, n: int, device='cpu') -> ObservationHistory:
        """Frame and action history of ``n`` cars."""
        return ObservationHistory(self, n, device)

    def start_measurements(self, n: int, generator=None, device='cpu') -> torch.Tensor:
        """Start states (N, 6): the start pose plus uniform noise, at rest."""
        cfg = self.config
        base = torch.tensor(cfg.start_pose, dtype=torch.float32, device=device)
        noise = torch.tensor(cfg.start_noise, dtype=torch.float32, device=device)
        u = torch.rand(n, 3, generator=generator, device=device) * 2 - 1
        pose = base + noise * u
        return torch.cat([pose, torch.zeros(n, 3, device=device)], dim=1)

    def action_to_command(self, action) -> Dict[str, float]:
        """Convert normalised [steer, throttle] into steering angle (rad) and motor duty."""
        steer, throttle = (min(max(float(a), -1.0), 1.0) for a in action)
        return {'steering_angle': self.config.steering_limit * steer,
                'throttle': self.config.max_throttle * throttle}

    def command_to_action(self, command: Dict[str, float]) -> torch.Tensor:
        """Convert steering angle (rad) and motor duty into normalised [steer, throttle]."""
        cfg = self.config
        duty = command['throttle'] / cfg.max_throttle if cfg.max_throttle > 0 else 0.0
        return torch.tensor([[command['steering_angle'] / cfg.steering_limit, duty]],
                            dtype=torch.float32).clamp(-1.0, 1.0)
