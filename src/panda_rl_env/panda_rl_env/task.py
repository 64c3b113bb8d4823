# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Panda pick task, defined once for pretraining, the env node and the sim bridge.

Measurement (``PandaMeasurement``): a float state (N, 17) with the fields of
``MEASUREMENT_FIELDS`` and the preprocessed camera image, uint8 (N, 1, 64, 64)
(``vision.preprocess`` of the camera frame: one function for sim and robot):

==================  ====  ===========================================================
``tip``             3     tool centre point in the base frame (m)
``tip_vel``         3     its velocity (m/s; on the robot a least-squares fit over the
                          last 10 poses)
``fingers``         2     finger positions (m, 0..0.04 each; width / 2 on the robot)
``cube``            3     cube centre in the base frame (m; ArUco on the robot)
``cube_seen``       1     1 when the cube position is current (markers in view)
``target``          3     the equilibrium position in effect (m)
``gripper_closed``  1     1 while the gripper is commanded closed
``age``             1     reserved (0)
==================  ====  ===========================================================

Observation: the 64x64 image plus state 10 = tip 3, fingers / 0.04 2, last 5 gripper
commands (+1 closed, -1 open). Action [dy, dz, gripper] in [-1, 1]: the equilibrium moves
``action_step`` (5 mm) per unit in y and z (x and the orientation stay at home), clipped to
the workspace and to ``max_lag`` from the measured tip (no wind-up against an obstacle);
the gripper closes (grasp) while the third component is > 0 and opens otherwise.

Reward, progress only: R = sum_i scale_i * p_i over named potentials (``reach``, ``lift``,
``no_floor_collision``, ``success``) and r_t = max(R_t - max_{k<t} R_k, 0). Per-term rewards
are scale_i * (p_i now - p_i at the best state so far) plus ``clip_to_zero`` (what lifts a
negative sum to 0), so they add up to the reward. Success: the cube centre
``lift_height`` above its resting height, between the fingers; it ends the episode
(``end_on_success``, a terminal state with reason ``success``). Safety (robot and simulator
alike): the tip more than ``max_tip_offset`` from home on any axis, or faster than
``max_tip_speed``.
"""

import dataclasses
import math
from typing import Dict, Optional, Tuple

from panda_rl_env import model
from rl_core import config_spec
from rl_core.config_spec import spec
from rl_core.task import ActionSpec, Observation, ObservationSpec, SafetyAbort, Task
import torch

_LAYOUT = (('tip', 3), ('tip_vel', 3), ('fingers', 2), ('cube', 3), ('cube_seen', 1),
           ('target', 3), ('gripper_closed', 1), ('age', 1))
SLICES: Dict[str, slice] = {}
_start = 0
for _name, _size in _LAYOUT:
    SLICES[_name] = slice(_start, _start + _size)
    _start += _size
MEASUREMENT_DIM = _start
STATE_DIM = 10
ACTION_DIM = 3
POTENTIALS = ('reach', 'lift', 'no_floor_collision', 'success')


def _field_names():
    names = []
    for name, size in _LAYOUT:
        names += [name] if size == 1 else [f'{name}[{"xyz"[i] if size == 3 else i}]'
                                           for i in range(size)]
    return tuple(names)


@dataclasses.dataclass
class PandaPickConfig:
    """Everything that defines the pick task; SI units, base frame."""

    control_hz: float = spec(20.0, 'Control rate (Hz).', low=1.0, high=1000.0)
    episode_steps: int = spec(80, 'Steps after which an episode is truncated (80 in '
                              'pretraining, 250 on the robot).', low=1, high=100_000)
    action_delay_steps: int = spec(0, 'Control periods between a command and its effect.',
                                   low=0, high=10)
    action_step: float = spec(0.005, 'Equilibrium displacement per unit action (m).',
                              low=0.0001, high=0.05)
    home: Tuple[float, ...] = spec(model.HOME_TIP, 'Home tip position (m).')
    workspace_low: Tuple[float, ...] = spec((0.25, -0.32, 0.02), 'Workspace clip, low '
                                            'corner (m).')
    workspace_high: Tuple[float, ...] = spec((0.77, 0.32, 0.5), 'Workspace clip, high '
                                             'corner (m).')
    max_lag: float = spec(0.03, 'Largest equilibrium offset from the measured tip (m).',
                          low=0.001, high=0.3)
    cube_y_range: float = spec(0.1, 'Cube start y ~ home y + U(-range, range) (m).', low=0.0,
                               high=0.3)
    cube_yaw_range: float = spec(0.4, 'Cube start yaw ~ U(-range, range) (rad).', low=0.0,
                                 high=math.pi)
    lift_height: float = spec(0.05, 'Success: cube centre this far above its resting '
                              'height (m).', low=0.005, high=0.4)
    end_on_success: bool = spec(True, 'End the episode (a terminal state, reason '
                                '"success") the step the cube reaches the lift height; '
                                'false judges success in the last state of the episode.')
    grasp_radius: float = spec(0.035, 'Cube centre within this of the tip counts as held '
                               '(m).', low=0.005, high=0.2)
    reach_sharpness: float = spec(10.0, 'reach = 1 - tanh(sharpness * |tip - cube|).',
                                  low=0.1, high=100.0)
    floor_z: float = spec(0.008, 'Tip below this height counts as a floor collision (m).',
                          low=-0.1, high=0.2)
    max_tip_offset: float = spec(0.3, 'Safety: largest tip offset from home on any axis '
                                 '(m).', low=0.01, high=1.0)
    max_tip_speed: float = spec(0.5, 'Safety: largest tip speed (m/s).', low=0.01, high=5.0)
    image_size: int = spec(64, 'Side of the square policy image (px).', low=8, high=256)
    reward_scales: Dict[str, float] = spec(
        {'reach': 1.0, 'lift': 2.0, 'no_floor_collision': 0.5, 'success': 3.0,
         'clip_to_zero': 1.0},
        'Scale of each potential of the progress reward (clip_to_zero: 1 keeps the '
        'progress-only reward, 0 leaves the potential differences signed).')

    def __post_init__(self):
        """Refuse values outside their allowed ranges, naming the field."""
        config_spec.validate(self)
        for name in ('home', 'workspace_low', 'workspace_high'):
            if len(getattr(self, name)) != 3:
                raise ValueError(f'{name}={getattr(self, name)!r} must have 3 values (x, y, z)')
        if any(lo >= hi for lo, hi in zip(self.workspace_low, self.workspace_high)):
            raise ValueError(f'workspace_low={self.workspace_low} must be below '
                             f'workspace_high={self.workspace_high} on every axis')


class PandaMeasurement:
    """What the robot reports each step: state (N, 17) float32, pixels (N, 1, H, W) uint8."""

    def __init__(self, state: torch.Tensor, pixels: Optional[torch.Tensor]):
        """Wrap the two parts; ``best`` (potentials at the best state so far) starts unset."""
        self.state = state
        self.pixels = pixels
        self.best: Optional[torch.Tensor] = None
        #: A fault the robot's drivers found (e.g. 'cube_lost: ...'); ends the episode.
        self.fault = ''

    @property
    def n(self) -> int:
        """Return the number of robots."""
        return self.state.shape[0]

    def field(self, name: str) -> torch.Tensor:
        """Return one state field, (N, size)."""
        return self.state[:, SLICES[name]]

    def select(self, rows) -> 'PandaMeasurement':
        """Return the measurement of some robots."""
        out = PandaMeasurement(self.state[rows], None if self.pixels is None
                               else self.pixels[rows])
        out.best = None if self.best is None else self.best[rows]
        return out


# ------------------------------------------------------------------------- potentials
def tip_cube_distance(m: PandaMeasurement) -> torch.Tensor:
    """|tip - cube| (m), (N,)."""
    return (m.field('tip') - m.field('cube')).norm(dim=-1)


def cube_lift(task, m: PandaMeasurement) -> torch.Tensor:
    """Cube centre height above its resting height (m), (N,)."""
    return m.field('cube')[:, 2] - model.CUBE_HALF


def held(task, m: PandaMeasurement) -> torch.Tensor:
    """Return (N,) bool: the cube is seen and between the fingers."""
    return (m.field('cube_seen')[:, 0] > 0.5) & (tip_cube_distance(m) < task.config.grasp_radius)


def potential_reach(task, prev, m, action):
    """1 - tanh(k |tip - cube|): 1 at the cube (0 when the cube is not seen)."""
    value = 1.0 - torch.tanh(task.config.reach_sharpness * tip_cube_distance(m))
    return value * (m.field('cube_seen')[:, 0] > 0.5)


def potential_lift(task, prev, m, action):
    """Fraction of the lift height reached with the cube held, in [0, 1]."""
    frac = (cube_lift(task, m) / task.config.lift_height).clamp(0.0, 1.0)
    return frac * held(task, m)


def potential_no_floor_collision(task, prev, m, action):
    """1 while the tip stays above the table (``floor_z``)."""
    return (m.field('tip')[:, 2] > task.config.floor_z).float()


def potential_success(task, prev, m, action):
    """1 when the cube is held at the lift height."""
    return task.success(m).float()


def clip_to_zero(task, prev, m, action):
    """Lift a negative step reward to 0 (filled in by ``PandaPickTask.reward_terms``)."""
    return torch.zeros(m.n, device=m.state.device)


class GripperHistory:
    """Last 5 gripper commands and the newest measurement of N robots."""

    LENGTH = 5

    def __init__(self, task: 'PandaPickTask', n: int, device='cpu'):
        """Allocate for ``n`` robots."""
        self.task = task
        self.commands = -torch.ones(n, self.LENGTH, device=device)
        self.measurement: Optional[PandaMeasurement] = None

    def reset(self, m: PandaMeasurement, mask: torch.Tensor = None) -> None:
        """
        Start from ``m`` (the robots in ``mask``, default all).

        The gripper history is open again and the start potentials are the best so far.
        """
        potentials = self.task.potentials(m)
        if mask is None or m.best is None:
            m.best = potentials
        else:
            m.best = torch.where(mask.unsqueeze(1), potentials, m.best)
        if mask is None:
            self.commands.fill_(-1.0)
        else:
            self.commands = torch.where(mask.unsqueeze(1), -1.0, self.commands)
        self.measurement = m

    def push(self, m: PandaMeasurement, action: torch.Tensor) -> None:
        """Record the newest measurement and the gripper command of ``action``."""
        closed = torch.where(action[:, 2] > 0, 1.0, -1.0).to(self.commands)
        self.commands = torch.cat([self.commands[:, 1:], closed.unsqueeze(1)], dim=1)
        self.measurement = m

    def state(self) -> torch.Tensor:
        """Return the 10-d state: tip 3, fingers / 0.04 2, last 5 gripper commands."""
        m = self.measurement
        return torch.cat([m.field('tip'), m.field('fingers') / model.FINGER_MAX,
                          self.commands], dim=1)

    def observation(self) -> Observation:
        """Return the state and the image."""
        return Observation(self.state(), self.measurement.pixels)


class PandaPickTask(Task):
    """Vision-based cube picking with a Cartesian impedance-controlled Panda."""

    NAME = 'panda_pick'
    CONFIG = PandaPickConfig
    REWARD_TERMS = {
        'reach': potential_reach,
        'lift': potential_lift,
        'no_floor_collision': potential_no_floor_collision,
        'success': potential_success,
        'clip_to_zero': clip_to_zero,
    }
    OVERRIDABLE = frozenset({'episode_steps', 'cube_y_range', 'cube_yaw_range',
                             'max_tip_offset', 'max_tip_speed', 'action_delay_steps'})
    MEASUREMENT_FIELDS = _field_names()

    @property
    def observation_spec(self) -> ObservationSpec:
        """Return state 10 + one 64x64 grayscale image."""
        s = self.config.image_size
        return ObservationSpec(STATE_DIM, (1, s, s))

    @property
    def action_spec(self) -> ActionSpec:
        """Return [dy, dz, gripper]."""
        return ActionSpec(ACTION_DIM, ('dy', 'dz', 'gripper'))

    # ------------------------------------------------------------------ commands
    def next_target(self, target: torch.Tensor, tip: torch.Tensor, action: torch.Tensor
                    ) -> torch.Tensor:
        """
        Equilibrium positions (N, 3) after normalised actions (N, 3).

        y and z move ``action_step`` per unit; x stays at home; the result is clipped to the
        workspace and to ``max_lag`` around the measured tip.
        """
        cfg = self.config
        a = action.clamp(-1.0, 1.0)
        out = target.clone()
        out[:, 0] = cfg.home[0]
        out[:, 1:] = target[:, 1:] + cfg.action_step * a[:, :2]
        out = torch.minimum(torch.maximum(out, tip - cfg.max_lag), tip + cfg.max_lag)
        out[:, 0] = cfg.home[0]
        low = torch.tensor(cfg.workspace_low, device=out.device)
        high = torch.tensor(cfg.workspace_high, device=out.device)
        return torch.minimum(torch.maximum(out, low), high)

    def gripper_closed(self, action: torch.Tensor) -> torch.Tensor:
        """Return (N,) bool: the gripper is commanded closed (third component > 0)."""
        return action[:, 2] > 0.0

    def action_to_command(self, action) -> Dict[str, float]:
        """
        Convert one action into metres of equilibrium motion and the gripper command.

        ``gripper`` keeps the policy's value (the hand closes while it is > 0, which
        ``gripper_close`` states as 1/0).
        """
        a = torch.as_tensor(action, dtype=torch.float32).reshape(-1).clamp(-1.0, 1.0)
        return {'dy': float(a[0]) * self.config.action_step,
                'dz': float(a[1]) * self.config.action_step,
                'gripper': float(a[2]),
                'gripper_close': 1.0 if float(a[2]) > 0.0 else 0.0}

    def command_to_action(self, command: Dict[str, float]) -> torch.Tensor:
        """Convert a command back into the normalised action (clipped)."""
        s = self.config.action_step
        grip = command['gripper'] if 'gripper' in command else (
            1.0 if command['gripper_close'] > 0.5 else -1.0)
        a = torch.tensor([[command['dy'] / s, command['dz'] / s, grip]])
        return a.clamp(-1.0, 1.0)

    # ------------------------------------------------------------------ episode
    def start_measurements(self, n: int, generator=None, device='cpu') -> PandaMeasurement:
        """Tip at home, gripper open, the cube on the table below the home y range."""
        cfg = self.config
        state = torch.zeros(n, MEASUREMENT_DIM, device=device)
        home = torch.tensor(cfg.home, device=device)
        state[:, SLICES['tip']] = home
        state[:, SLICES['target']] = home
        state[:, SLICES['fingers']] = model.FINGER_MAX
        dy = (2 * torch.rand(n, generator=generator, device=device) - 1) * cfg.cube_y_range
        state[:, SLICES['cube']] = torch.stack(
            [torch.full((n,), cfg.home[0], device=device), cfg.home[1] + dy,
             torch.full((n,), model.CUBE_HALF, device=device)], dim=1)
        state[:, SLICES['cube_seen']] = 1.0
        s = cfg.image_size
        return PandaMeasurement(state, torch.zeros(n, 1, s, s, dtype=torch.uint8,
                                                   device=device))

    def new_history(self, n: int, device='cpu') -> GripperHistory:
        """Gripper-command history of ``n`` robots."""
        return GripperHistory(self, n, device)

    def tip_offset_exceeded(self, m: PandaMeasurement) -> torch.Tensor:
        """Return (N,) bool: the tip is too far from home on some axis."""
        home = torch.tensor(self.config.home, device=m.state.device)
        return ((m.field('tip') - home).abs() > self.config.max_tip_offset).any(dim=1)

    def too_fast(self, m: PandaMeasurement) -> torch.Tensor:
        """Return (N,) bool: the tip moves faster than the safety limit."""
        return m.field('tip_vel').norm(dim=-1) > self.config.max_tip_speed

    def terminated(self, m: PandaMeasurement) -> torch.Tensor:
        """Return True where a safety limit is broken (sim and robot share them)."""
        return (self.tip_offset_exceeded(m) | self.too_fast(m)
                | ~torch.isfinite(m.state).all(dim=1))

    def success_ends_episode(self) -> bool:
        """
        Return ``end_on_success`` (default True): a pick ends when the cube is up.

        The progress-only reward pays for the best state reached, never for holding it,
        so what the policy does after the lift earns nothing: judging success in the last
        state of an episode would measure behaviour the reward never asked for.
        """
        return bool(self.config.end_on_success)

    def termination_reason(self, m: PandaMeasurement) -> str:
        """Return the safety limit that ended the episode."""
        return self.safety_violation(m) or 'terminated'

    def success(self, m: PandaMeasurement) -> torch.Tensor:
        """Return True where the cube is held at the lift height."""
        return held(self, m) & (cube_lift(self, m) >= self.config.lift_height)

    def safety_violation(self, m: PandaMeasurement) -> str:
        """Return why a (1, ...) measurement breaks a safety limit, or ''."""
        cfg = self.config
        offset = (m.field('tip')[0] - torch.tensor(cfg.home)).abs()
        if bool((offset > cfg.max_tip_offset).any()):
            axis = 'xyz'[int(offset.argmax())]
            return (f'workspace: tip {float(offset.max()):.3f} m from home along {axis} > '
                    f'{cfg.max_tip_offset:g}')
        speed = float(m.field('tip_vel')[0].norm())
        if speed > cfg.max_tip_speed:
            return f'tip_speed: {speed:.3f} m/s > {cfg.max_tip_speed:g}'
        return ''

    def check_measurement(self, measurement: PandaMeasurement) -> None:
        """Raise SafetyAbort on a driver fault, a non-finite field or a wrong image."""
        if measurement.fault:
            raise SafetyAbort(measurement.fault)
        super().check_measurement(measurement.state)
        s = self.config.image_size
        px = measurement.pixels
        if px is None or px.dtype != torch.uint8 or tuple(px.shape[1:]) != (1, s, s):
            got = 'none' if px is None else f'{tuple(px.shape[1:])} {px.dtype}'
            raise SafetyAbort(f'bad_image: the policy image must be (1, {s}, {s}) uint8, got '
                              f'{got}')

    def metrics(self, m: PandaMeasurement) -> Dict[str, torch.Tensor]:
        """Return the cube lift (m) and the tip-cube distance (m) at the state reached."""
        return {'cube_lift': cube_lift(self, m), 'tip_cube_distance': tip_cube_distance(m)}

    # ------------------------------------------------------------------ reward
    def potentials(self, m: PandaMeasurement) -> torch.Tensor:
        """Return the unscaled potential values (N, 4), ordered as ``POTENTIALS``."""
        return torch.stack([self.REWARD_TERMS[name](self, None, m, None)
                            for name in POTENTIALS], dim=1)

    def shaped(self, potentials: torch.Tensor) -> torch.Tensor:
        """Return R, the sum of the scaled potentials, (N,)."""
        scales = torch.tensor([self.config.reward_scales[n] for n in POTENTIALS],
                              device=potentials.device)
        return (potentials * scales).sum(-1)

    def start_potentials(self, m: PandaMeasurement) -> None:
        """Record the start state's potentials as the best so far."""
        m.best = self.potentials(m)

    def reward_terms(self, prev: PandaMeasurement, m: PandaMeasurement, action
                     ) -> Dict[str, torch.Tensor]:
        """
        Per-term progress (N,) each; stores the best potentials so far on ``m``.

        The terms are scale x (potential now - potential at the best state so far);
        ``clip_to_zero`` lifts a negative sum to 0, so the terms sum to the reward.
        """
        if prev.best is None:
            self.start_potentials(prev)
        now = self.potentials(m)
        best = prev.best
        scales = torch.tensor([self.config.reward_scales[n] for n in POTENTIALS],
                              device=now.device)
        diff = (now - best) * scales
        total = diff.sum(-1)
        improved = total > 0
        m.best = torch.where(improved.unsqueeze(1), now, best)
        terms = {name: diff[:, i] for i, name in enumerate(POTENTIALS)}
        clip = float(self.config.reward_scales['clip_to_zero'] > 0)
        terms['clip_to_zero'] = (-total).clamp(min=0.0) * clip
        return terms

    def reward(self, terms: Dict[str, torch.Tensor]
               ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Sum the terms (``reward_terms`` already scaled them)."""
        return sum(terms.values()), dict(terms)
