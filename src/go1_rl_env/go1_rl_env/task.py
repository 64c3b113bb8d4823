# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Go1 joystick task, defined once for pretraining, the env node and the sim bridge.

Measurement (N, 76), what the robot reports each 50 Hz control step (field names in
``MEASUREMENT_FIELDS``; on the robot the driver and the velocity estimator fill them):

====================  =====  =====================================================
field                 size   meaning
====================  =====  =====================================================
``linvel``            3      base linear velocity in the body frame (m/s)
``gyro``              3      base angular velocity in the body frame (rad/s)
``gravity``           3      unit gravity vector in the body frame
``q`` / ``dq``        12+12  joint positions (rad) / velocities (rad/s), SDK order
``tau``               12     joint torques (N m)
``q_target``          12     the PD targets in effect during the step (rad)
``command``           3      the joystick command (vx, vy m/s, yaw rate rad/s)
``foot_contact``      4      1 where a foot touches the ground (FR, FL, RR, RL)
``foot_height``       4      foot height above the ground (m)
``foot_vel``          8      foot xy velocities in the world frame (m/s)
====================  =====  =====================================================

Observation (48): linvel 3, gyro 3, gravity 3, q - q0 12, dq 12, last action 12, command 3;
simulators add the published noise (``obs_noise``), the robot has its own. Action (12):
joint targets ``q0 + action_scale * a`` tracked by the PD law (Kp 35, Kd 0.5). Reward: the
named terms x ``reward_scales`` (tracking exp(-err^2 / sigma) terms and penalties), times the
control period, clipped at 0. An episode ends when the body flips (termination) or after
``episode_steps`` (1000 = 20 s). Commands ~ U(+-command_range), resampled after exponential
intervals of mean ``resample_mean_s``.
"""

import dataclasses
from typing import Dict, Optional, Tuple

from go1_rl_env import model
from rl_core import config_spec
from rl_core.config_spec import spec
from rl_core.task import ActionSpec, Observation, ObservationSpec, SafetyAbort, Task
import torch

_LAYOUT = (('linvel', 3), ('gyro', 3), ('gravity', 3), ('q', 12), ('dq', 12), ('tau', 12),
           ('q_target', 12), ('command', 3), ('foot_contact', 4), ('foot_height', 4),
           ('foot_vel', 8))
#: Slice of each measurement field.
SLICES: Dict[str, slice] = {}
_start = 0
for _name, _size in _LAYOUT:
    SLICES[_name] = slice(_start, _start + _size)
    _start += _size
MEASUREMENT_DIM = _start
OBS_DIM = 48
ACTION_DIM = 12


def _field_names():
    names = []
    for name, size in _LAYOUT:
        if name in ('q', 'dq', 'tau', 'q_target'):
            names += [f'{name}[{j}]' for j in model.SDK_JOINT_NAMES]
        else:
            names += [f'{name}[{i}]' for i in range(size)]
    return tuple(names)


@dataclasses.dataclass
class Go1JoystickConfig:
    """Everything that defines the joystick task; SI units."""

    control_hz: float = spec(50.0, 'Control rate (Hz).', low=1.0, high=1000.0)
    episode_steps: int = spec(1000, 'Steps after which an episode is truncated.', low=1,
                              high=1_000_000)
    action_scale: float = spec(0.5, 'Joint target offset (rad) at action 1.', low=0.01,
                               high=2.0)
    kp: float = spec(model.KP, 'PD stiffness (N m/rad).', low=0.0, high=500.0)
    kd: float = spec(model.KD, 'PD damping (N m s/rad).', low=0.0, high=50.0)
    command_range: Tuple[float, ...] = spec((1.5, 0.8, 1.2), 'Commands are drawn from '
                                            'U(-range, range) for (vx, vy, yaw rate).',
                                            low=0.0)
    resample_mean_s: float = spec(5.0, 'Mean time between command resamplings (s).',
                                  low=0.1, high=1e6)
    tracking_sigma: float = spec(0.25, 'sigma of the tracking terms exp(-err^2/sigma).',
                                 low=1e-3, high=10.0)
    foot_clearance_target: float = spec(0.07, 'Swing-foot height the clearance term '
                                        'asks for (m).', low=0.0, high=0.3)
    obs_noise: Tuple[float, ...] = spec((0.1, 0.2, 0.05, 0.03, 1.5, 0.05), 'Uniform noise '
                                        'amplitude added in simulation to linvel, gyro, '
                                        'gravity, q, dq, command.', low=0.0)
    start_joint_noise: float = spec(0.05, 'Uniform +- noise on the start joint angles '
                                    '(rad).', low=0.0, high=0.5)
    # Safety limits of the robot (damping + abort on the Go1; simulators end the episode on
    # a flip, which is also the task's termination).
    max_joint_velocity: float = spec(30.0, 'Joint speed limit on the robot (rad/s).',
                                     low=1.0, high=100.0)
    reward_scales: Dict[str, float] = spec(
        {'tracking_lin_vel': 1.0, 'tracking_ang_vel': 0.5, 'lin_vel_z': -0.5,
         'ang_vel_xy': -0.05, 'orientation': -5.0, 'torques': -0.0002,
         'action_rate': -0.01, 'energy': -0.001, 'feet_slip': -0.1,
         'feet_clearance': -2.0, 'clip_to_zero': 1.0},
        'Scale of each named reward term (clip_to_zero: 1 clips the step reward at 0, as '
        'published; 0 leaves it signed).')

    def __post_init__(self):
        """Refuse values outside their allowed ranges, naming the field."""
        config_spec.validate(self)
        for name, size in (('command_range', 3), ('obs_noise', 6)):
            if len(getattr(self, name)) != size:
                raise ValueError(f'{name}={getattr(self, name)!r} must have {size} values')


# ------------------------------------------------------------------------- helpers
def field(m: torch.Tensor, name: str) -> torch.Tensor:
    """Return one measurement field, (N, size)."""
    return m[:, SLICES[name]]


def gravity_from_quat(quat_wxyz: torch.Tensor) -> torch.Tensor:
    """World gravity direction (0, 0, -1) expressed in the body frame, (N, 3)."""
    w, x, y, z = quat_wxyz.unbind(-1)
    # third row of R (body->world) is the world z axis in body coordinates
    zx = 2 * (x * z - w * y)
    zy = 2 * (y * z + w * x)
    zz = 1 - 2 * (x * x + y * y)
    return -torch.stack([zx, zy, zz], dim=-1)


# ------------------------------------------------------------------------- reward terms
def _sq(x):
    return (x * x).sum(-1)


def reward_tracking_lin_vel(task, prev, m, action):
    """exp(-|cmd_xy - v_xy|^2 / sigma): 1 when the base moves as commanded."""
    err = _sq(field(m, 'command')[:, :2] - field(m, 'linvel')[:, :2])
    return torch.exp(-err / task.config.tracking_sigma)


def reward_tracking_ang_vel(task, prev, m, action):
    """exp(-(cmd_yaw - w_z)^2 / sigma)."""
    err = (field(m, 'command')[:, 2] - field(m, 'gyro')[:, 2]) ** 2
    return torch.exp(-err / task.config.tracking_sigma)


def cost_lin_vel_z(task, prev, m, action):
    """Vertical base velocity squared."""
    return field(m, 'linvel')[:, 2] ** 2


def cost_ang_vel_xy(task, prev, m, action):
    """Roll and pitch rates squared."""
    return _sq(field(m, 'gyro')[:, :2])


def cost_orientation(task, prev, m, action):
    """Tilt: the horizontal part of the body-frame gravity vector, squared."""
    return _sq(field(m, 'gravity')[:, :2])


def cost_torques(task, prev, m, action):
    """Sum of squared joint torques."""
    return _sq(field(m, 'tau'))


def cost_action_rate(task, prev, m, action):
    """Change of the normalised action (joint targets / action_scale), squared."""
    diff = (field(m, 'q_target') - field(prev, 'q_target')) / task.config.action_scale
    return _sq(diff)


def cost_energy(task, prev, m, action):
    """Mechanical power |tau * dq| summed over joints."""
    return (field(m, 'tau') * field(m, 'dq')).abs().sum(-1)


def cost_feet_slip(task, prev, m, action):
    """Horizontal speed of feet in contact, squared."""
    vel = field(m, 'foot_vel').reshape(-1, 4, 2)
    return (_sq(vel) * field(m, 'foot_contact')).sum(-1)


def clip_to_zero(task, prev, m, action):
    """Lift a negative step reward to 0 (filled in by ``Go1JoystickTask.reward``)."""
    return torch.zeros(m.shape[0], device=m.device)


def cost_feet_clearance(task, prev, m, action):
    """Swing feet below the target height, weighted by their horizontal speed."""
    vel = field(m, 'foot_vel').reshape(-1, 4, 2).norm(dim=-1)
    err = (field(m, 'foot_height') - task.config.foot_clearance_target) ** 2
    return (err * vel.sqrt()).sum(-1)


class JoystickHistory:
    """Last action (for the observation) of N robots; adds sim noise when asked."""

    def __init__(self, task: 'Go1JoystickTask', n: int, device='cpu', noise: bool = False,
                 generator: Optional[torch.Generator] = None):
        """Allocate for ``n`` robots; ``noise`` adds the task's observation noise."""
        self.task = task
        self.noise = noise
        self.generator = generator
        self.last_action = torch.zeros(n, ACTION_DIM, device=device)
        self.measurement = torch.zeros(n, MEASUREMENT_DIM, device=device)
        self.q0 = torch.tensor(model.DEFAULT_POSE, device=device)

    def reset(self, m: torch.Tensor, mask: torch.Tensor = None) -> None:
        """Start from measurement ``m`` with a zero last action (where mask)."""
        if mask is None:
            self.measurement = m.clone()
            self.last_action.zero_()
        else:
            self.measurement = torch.where(mask.unsqueeze(1), m, self.measurement)
            self.last_action = torch.where(mask.unsqueeze(1), 0.0, self.last_action)

    def push(self, m: torch.Tensor, action: torch.Tensor) -> None:
        """Record the newest measurement and the action that led to it."""
        self.measurement = m
        self.last_action = action

    def state(self) -> torch.Tensor:
        """Return the 48-d observation (N, 48)."""
        m = self.measurement
        parts = [field(m, 'linvel'), field(m, 'gyro'), field(m, 'gravity'),
                 field(m, 'q') - self.q0, field(m, 'dq')]
        cmd = field(m, 'command')
        if self.noise:
            amp = self.task.config.obs_noise
            parts = [p + amp[i] * (2 * torch.rand(p.shape, generator=self.generator,
                                                  device=p.device) - 1)
                     for i, p in enumerate(parts)]
            cmd = cmd + amp[5] * (2 * torch.rand(cmd.shape, generator=self.generator,
                                                 device=cmd.device) - 1)
        return torch.cat(parts + [self.last_action, cmd], dim=1)

    def observation(self) -> Observation:
        """Return the current observation as an Observation (no pixels)."""
        return Observation(self.state())


class Go1JoystickTask(Task):
    """Reward, termination and observation of joystick velocity tracking for N robots."""

    NAME = 'go1_joystick'
    CONFIG = Go1JoystickConfig
    REWARD_TERMS = {
        'tracking_lin_vel': reward_tracking_lin_vel,
        'tracking_ang_vel': reward_tracking_ang_vel,
        'lin_vel_z': cost_lin_vel_z,
        'ang_vel_xy': cost_ang_vel_xy,
        'orientation': cost_orientation,
        'torques': cost_torques,
        'action_rate': cost_action_rate,
        'energy': cost_energy,
        'feet_slip': cost_feet_slip,
        'feet_clearance': cost_feet_clearance,
        'clip_to_zero': clip_to_zero,
    }
    OVERRIDABLE = frozenset({'episode_steps', 'command_range', 'resample_mean_s',
                             'start_joint_noise', 'max_joint_velocity'})
    MEASUREMENT_FIELDS = _field_names()

    def __init__(self, config: Go1JoystickConfig = None):
        """Use ``config`` or a fresh default one."""
        super().__init__(config)
        self.q0 = torch.tensor(model.DEFAULT_POSE)
        self.low = torch.tensor([model.JOINT_RANGES[p][0] for p in model.PARTS] * 4)
        self.high = torch.tensor([model.JOINT_RANGES[p][1] for p in model.PARTS] * 4)

    @property
    def observation_spec(self) -> ObservationSpec:
        """Return the 48-d joystick observation (no pixels)."""
        return ObservationSpec(OBS_DIM)

    @property
    def action_spec(self) -> ActionSpec:
        """Return the 12 normalised joint-target offsets, SDK order."""
        return ActionSpec(ACTION_DIM, tuple(n[:-6] for n in model.SDK_JOINT_NAMES))

    # ------------------------------------------------------------------ episode
    def joint_targets(self, action: torch.Tensor) -> torch.Tensor:
        """Joint targets (N, 12) of normalised actions, inside the joint ranges."""
        q = self.q0.to(action.device) + self.config.action_scale * action.clamp(-1.0, 1.0)
        return torch.maximum(torch.minimum(q, self.high.to(q.device)), self.low.to(q.device))

    def sample_commands(self, n: int, generator=None, device='cpu') -> torch.Tensor:
        """Draw ``n`` joystick commands ~ U(-range, range), (N, 3)."""
        rng = torch.tensor(self.config.command_range, device=device)
        return (2 * torch.rand(n, 3, generator=generator, device=device) - 1) * rng

    def resample_mask(self, n: int, generator=None, device='cpu') -> torch.Tensor:
        """Return (N,) bool: commands to resample this step (exponential intervals)."""
        p = 1.0 / (self.config.resample_mean_s * self.control_hz)
        return torch.rand(n, generator=generator, device=device) < p

    def start_measurements(self, n: int, generator=None, device='cpu') -> torch.Tensor:
        """Standing, at rest, with a fresh command (N, 76)."""
        m = torch.zeros(n, MEASUREMENT_DIM, device=device)
        m[:, SLICES['gravity']] = torch.tensor([0.0, 0.0, -1.0], device=device)
        noise = self.config.start_joint_noise * (
            2 * torch.rand(n, 12, generator=generator, device=device) - 1)
        m[:, SLICES['q']] = self.q0.to(device) + noise
        m[:, SLICES['q_target']] = self.q0.to(device)
        m[:, SLICES['command']] = self.sample_commands(n, generator, device)
        m[:, SLICES['foot_contact']] = 1.0
        return m

    def new_history(self, n: int, device='cpu', noise: bool = False,
                    generator=None) -> JoystickHistory:
        """Last-action history of ``n`` robots (``noise``: add simulated sensor noise)."""
        return JoystickHistory(self, n, device, noise, generator)

    def flipped(self, m: torch.Tensor) -> torch.Tensor:
        """Return True where the body is upside down (gravity points up in its frame)."""
        return field(m, 'gravity')[:, 2] > 0.0

    def terminated(self, m) -> torch.Tensor:
        """Return True where the robot flipped or its state broke."""
        return self.flipped(m) | ~torch.isfinite(m).all(dim=1)

    def termination_reason(self, m) -> str:
        """Return the recorded reason: the robot flipped."""
        return 'flipped'

    def success(self, m) -> torch.Tensor:
        """Return True where the robot is upright and tracks (xy error < 0.5 m/s)."""
        return ~self.flipped(m) & (self.lin_vel_error(m) < 0.5)

    def safety_violation(self, m) -> str:
        """Return why a measurement breaks a robot limit (flip, joint range/speed, torque)."""
        if bool(self.flipped(m)[0]):
            return 'flipped: the body is upside down'
        q = field(m, 'q')[0]
        margin = 0.05
        bad = (q < self.low - margin) | (q > self.high + margin)
        if bool(bad.any()):
            j = int(bad.nonzero()[0])
            return (f'joint_limit: {model.SDK_JOINT_NAMES[j]} at {float(q[j]):.3f} rad outside '
                    f'[{float(self.low[j]):.3f}, {float(self.high[j]):.3f}]')
        dq = field(m, 'dq')[0].abs()
        if bool((dq > self.config.max_joint_velocity).any()):
            j = int(dq.argmax())
            return (f'joint_velocity: {model.SDK_JOINT_NAMES[j]} at {float(dq[j]):.1f} rad/s > '
                    f'{self.config.max_joint_velocity:g}')
        tau = field(m, 'tau')[0].abs()
        limits = torch.tensor(model.TORQUE_LIMITS)
        if bool((tau > limits * 1.05).any()):
            j = int((tau / limits).argmax())
            return (f'torque_limit: {model.SDK_JOINT_NAMES[j]} at {float(tau[j]):.1f} N m > '
                    f'{float(limits[j]):g}')
        return ''

    def check_measurement(self, measurement) -> None:
        """Raise SafetyAbort naming the first non-finite field (e.g. a NaN joint reading)."""
        super().check_measurement(measurement)
        if not bool(torch.isfinite(torch.as_tensor(measurement)).all()):
            raise SafetyAbort('non_finite_observation')

    def lin_vel_error(self, m) -> torch.Tensor:
        """Return |cmd_xy - v_xy| (m/s), (N,)."""
        return (field(m, 'command')[:, :2] - field(m, 'linvel')[:, :2]).norm(dim=-1)

    def metrics(self, m) -> Dict[str, torch.Tensor]:
        """Return the xy velocity error and the yaw-rate error at the state reached."""
        return {'lin_vel_error': self.lin_vel_error(m),
                'ang_vel_error': (field(m, 'command')[:, 2] - field(m, 'gyro')[:, 2]).abs()}

    # ------------------------------------------------------------------ reward
    def reward(self, terms: Dict[str, torch.Tensor]
               ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """
        Scale the terms and multiply by the control period; clip the total at 0.

        The clipping is itself a named term (``clip_to_zero``: what lifts a negative sum to
        0), so the scaled terms always add up to the reward.
        """
        dt = 1.0 / self.control_hz
        scales = self.config.reward_scales
        scaled = {name: scales[name] * value * dt for name, value in terms.items()
                  if name != 'clip_to_zero'}
        total = sum(scaled.values())
        scaled['clip_to_zero'] = (-total).clamp(min=0.0) * float(scales['clip_to_zero'] > 0)
        return total + scaled['clip_to_zero'], scaled

    # ------------------------------------------------------------------ actions
    def action_to_command(self, action) -> Dict[str, float]:
        """Convert one normalised action into joint targets (rad) by SDK joint name."""
        q = self.joint_targets(torch.as_tensor(action, dtype=torch.float32).reshape(1, -1))[0]
        return {name: float(v) for name, v in zip(model.SDK_JOINT_NAMES, q)}

    def command_to_action(self, command: Dict[str, float]) -> torch.Tensor:
        """Convert joint targets (rad) by name back into the normalised action (clipped)."""
        q = torch.tensor([[command[n] for n in model.SDK_JOINT_NAMES]], dtype=torch.float32)
        return ((q - self.q0) / self.config.action_scale).clamp(-1.0, 1.0)
