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
``air_time``          4      time each foot has been off the ground (s)
``swing_peak``        4      highest foot height of the current swing (m)
====================  =====  =====================================================

``air_time`` and ``swing_peak`` are gait state: the task fills them from the previous
measurement in ``reward_terms`` (robots and simulators leave them 0), so the robot and the
simulators cannot count air time differently.

Observation (48): linvel 3, gyro 3, gravity 3, q - q0 12, dq 12, last action 12, command 3;
simulators add the published noise (``obs_noise``), the robot has its own. Action (12):
joint targets ``q0 + action_scale * a`` tracked by the PD law (Kp 35, Kd 0.5). Reward: the
named terms x ``reward_scales`` (the published set: tracking exp(-err^2 / sigma) terms,
``pose``, ``feet_air_time`` and the penalties), times the control period, clipped at 0. An
episode ends when the body flips (termination) or after ``episode_steps`` (1000 = 20 s).
Commands: after exponential intervals of mean ``resample_mean_s`` each component is, with
probability 1/2, redrawn as U(+-command_range) kept with probability
``command_nonzero_prob`` and 0 otherwise (so many commands are pure forward, pure turn or
stand still, as published).
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
           ('foot_vel', 8), ('air_time', 4), ('swing_peak', 4))
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
    command_nonzero_prob: Tuple[float, ...] = spec((0.9, 0.25, 0.5), 'Probability that a '
                                                   'redrawn command component (vx, vy, yaw '
                                                   'rate) is non-zero.', low=0.0, high=1.0)
    resample_mean_s: float = spec(5.0, 'Mean time between command resamplings (s).',
                                  low=0.1, high=1e6)
    tracking_sigma: float = spec(0.25, 'sigma of the tracking terms exp(-err^2/sigma).',
                                 low=1e-3, high=10.0)
    foot_clearance_target: float = spec(0.1, 'Swing-foot height the feet_clearance and '
                                        'feet_height terms ask for (m).', low=0.01, high=0.3)
    soft_joint_limit_factor: float = spec(0.95, 'dof_pos_limits penalises joint angles '
                                          'outside this centred fraction of each range.',
                                          low=0.1, high=1.0)
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
         'feet_clearance': -2.0, 'feet_height': -0.2, 'feet_air_time': 0.1, 'pose': 0.5,
         'stand_still': -1.0, 'termination': -1.0, 'dof_pos_limits': -1.0,
         'clip_to_zero': 1.0},
        'Scale of each named reward term (clip_to_zero: 1 clips the step reward at 0, as '
        'published; 0 leaves it signed). A term missing here is off (scale 0): checkpoints '
        'made before a term existed run with it off.')

    def __post_init__(self):
        """Refuse values outside their allowed ranges, naming the field."""
        config_spec.validate(self)
        unknown = set(self.reward_scales) - set(Go1JoystickTask.REWARD_TERMS)
        if unknown:
            raise ValueError(f'reward_scales: unknown terms {sorted(unknown)}; the task has '
                             f'{sorted(Go1JoystickTask.REWARD_TERMS)}')
        self.reward_scales = {name: float(self.reward_scales.get(name, 0.0))
                              for name in Go1JoystickTask.REWARD_TERMS}
        for name, size in (('command_range', 3), ('obs_noise', 6),
                           ('command_nonzero_prob', 3)):
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
    """Joint torques: their Euclidean norm plus the sum of their magnitudes (published)."""
    tau = field(m, 'tau')
    return _sq(tau).sqrt() + tau.abs().sum(-1)


def cost_action_rate(task, prev, m, action):
    """Change of the normalised action (joint targets / action_scale), squared."""
    diff = (field(m, 'q_target') - field(prev, 'q_target')) / task.config.action_scale
    return _sq(diff)


def cost_energy(task, prev, m, action):
    """Mechanical power |tau * dq| summed over joints."""
    return (field(m, 'tau') * field(m, 'dq')).abs().sum(-1)


def _moving(m, threshold):
    """1 where the command's norm exceeds ``threshold`` (N,)."""
    return (field(m, 'command').norm(dim=-1) > threshold).float()


def cost_feet_slip(task, prev, m, action):
    """Horizontal speed of feet in contact, squared (only while a command is given)."""
    vel = field(m, 'foot_vel').reshape(-1, 4, 2)
    return (_sq(vel) * field(m, 'foot_contact')).sum(-1) * _moving(m, 0.01)


def cost_feet_clearance(task, prev, m, action):
    """Distance of each foot from the swing height, weighted by sqrt of its xy speed."""
    vel = field(m, 'foot_vel').reshape(-1, 4, 2).norm(dim=-1)
    err = (field(m, 'foot_height') - task.config.foot_clearance_target).abs()
    return (err * vel.sqrt()).sum(-1)


def _swing(task, prev, m):
    """Air time and swing peak of this step before touch-down resets them, (N, 4) each."""
    air = field(prev, 'air_time') + 1.0 / task.control_hz
    return air, torch.maximum(field(prev, 'swing_peak'), field(m, 'foot_height'))


def _first_contact(prev, m):
    """1 for feet touching down this step after time in the air (contact or the last one)."""
    touching = torch.maximum(field(m, 'foot_contact'), field(prev, 'foot_contact'))
    return (field(prev, 'air_time') > 0).float() * touching


def cost_feet_height(task, prev, m, action):
    """At touch-down: (swing peak / swing height - 1)^2 per foot, while a command is given."""
    _, peak = _swing(task, prev, m)
    err = peak / task.config.foot_clearance_target - 1.0
    return (err * err * _first_contact(prev, m)).sum(-1) * _moving(m, 0.01)


def reward_feet_air_time(task, prev, m, action):
    """At touch-down: air time - 0.1 s (at most 0.4) per foot, while a command is given."""
    air, _ = _swing(task, prev, m)
    gain = ((air - 0.1) * _first_contact(prev, m)).clamp(max=0.4)
    return gain.sum(-1) * _moving(m, 0.1)


def reward_pose(task, prev, m, action):
    """exp(-sum w (q - q0)^2), w = 1, 1, 0.1 for hip, thigh, calf: near the default pose."""
    err = field(m, 'q') - task.q0.to(m.device)
    return torch.exp(-(err * err * task.pose_weights.to(m.device)).sum(-1))


def cost_stand_still(task, prev, m, action):
    """Sum of |q - q0| while the command is zero: stand in the default pose."""
    err = (field(m, 'q') - task.q0.to(m.device)).abs().sum(-1)
    return err * (1.0 - _moving(m, 0.01))


def cost_termination(task, prev, m, action):
    """1 on the step the body flips."""
    return task.flipped(m).float()


def cost_dof_pos_limits(task, prev, m, action):
    """Radians beyond the soft joint limits (a centred fraction of each range), summed."""
    q = field(m, 'q')
    low, high = task.soft_limits()
    return ((low.to(q.device) - q).clamp(min=0) + (q - high.to(q.device)).clamp(min=0)).sum(-1)


def clip_to_zero(task, prev, m, action):
    """Lift a negative step reward to 0 (filled in by ``Go1JoystickTask.reward``)."""
    return torch.zeros(m.shape[0], device=m.device)


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
        'feet_height': cost_feet_height,
        'feet_air_time': reward_feet_air_time,
        'pose': reward_pose,
        'stand_still': cost_stand_still,
        'termination': cost_termination,
        'dof_pos_limits': cost_dof_pos_limits,
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
        self.pose_weights = torch.tensor([1.0, 1.0, 0.1] * 4)

    def soft_limits(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Joint ranges shrunk about their centres to ``soft_joint_limit_factor``."""
        mid, half = (self.low + self.high) / 2, (self.high - self.low) / 2
        f = self.config.soft_joint_limit_factor
        return mid - f * half, mid + f * half

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

    def sample_commands(self, n: int, generator=None, device='cpu',
                        previous: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        Return ``n`` new joystick commands (N, 3), from ``previous`` (default: zero).

        Each component is, with probability 1/2, redrawn as U(-range, range) times a
        Bernoulli(``command_nonzero_prob``) and otherwise kept (the published sampler).
        """
        rng = torch.tensor(self.config.command_range, device=device)
        keep = torch.tensor(self.config.command_nonzero_prob, device=device)
        draw = (2 * torch.rand(n, 3, generator=generator, device=device) - 1) * rng
        nonzero = torch.rand(n, 3, generator=generator, device=device) < keep
        redraw = torch.rand(n, 3, generator=generator, device=device) < 0.5
        old = torch.zeros(n, 3, device=device) if previous is None else previous.to(device)
        return torch.where(redraw, draw * nonzero, old)

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
    def update_gait(self, prev: torch.Tensor, m: torch.Tensor) -> None:
        """Fill ``m``'s air time and swing peak (in place) from ``prev`` and its contacts."""
        contact = field(m, 'foot_contact') > 0.5
        air, peak = _swing(self, prev, m)
        m[:, SLICES['air_time']] = torch.where(contact, 0.0, air)
        m[:, SLICES['swing_peak']] = torch.where(contact, 0.0, peak)

    def reward_terms(self, prev_measurement, measurement, action) -> Dict[str, torch.Tensor]:
        """Return the named terms of one step; advance the gait state of ``measurement``."""
        terms = super().reward_terms(prev_measurement, measurement, action)
        self.update_gait(prev_measurement, measurement)
        return terms

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
