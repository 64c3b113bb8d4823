# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The task interface every robot implements once (no ROS, no simulator).

A task owns everything that must be identical in simulation and on the robot: the
configuration (a declare-once dataclass, see ``rl_core.config_spec``), the observation and
action specs, the named reward terms and their scales, termination, success, start
sampling, the observation history, the conversion between normalised actions in [-1, 1]
and hardware commands, and the metrics logged per episode. The vectorised simulator used
for pretraining, the sim bridge and the environment node on the robot all build their
behaviour from one ``Task`` object, and a checkpoint carries its configuration
(``Task.to_run_info``), so a policy always runs with the task it was trained on.

Every task method is batched over N robots (leading dimension N, torch tensors). A
*measurement* is whatever the robot reports each control step (for the race car a (N, 6)
state tensor; a camera robot adds images); only the task interprets it.
"""

import abc
import dataclasses
import math
from typing import Any, Callable, ClassVar, Dict, FrozenSet, NamedTuple, Optional, Tuple

from rl_core import config_spec
import torch


class SafetyAbort(RuntimeError):
    """The episode must stop now; ``reason`` says why (logged, recorded, robot stopped)."""

    def __init__(self, reason: str):
        """Store the reason (a short code, a colon, then details)."""
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class ObservationSpec:
    """What the policy sees: a float state vector and optionally uint8 pixels (C, H, W)."""

    state_dim: int
    pixel_shape: Tuple[int, ...] = ()

    @property
    def has_pixels(self) -> bool:
        """Return whether observations carry pixels."""
        return bool(self.pixel_shape)

    def describe(self) -> str:
        """Short human-readable form, e.g. 'state 45' or 'state 10 + pixels 1x64x64'."""
        text = f'state {self.state_dim}'
        if self.has_pixels:
            text += ' + pixels ' + 'x'.join(str(v) for v in self.pixel_shape)
        return text


@dataclasses.dataclass(frozen=True)
class ActionSpec:
    """Normalised actions in [-1, 1]; ``names`` label each component."""

    dim: int
    names: Tuple[str, ...] = ()

    def describe(self) -> str:
        """Short human-readable form, e.g. 'action 2 (steer, throttle)'."""
        return f'action {self.dim}' + (f" ({', '.join(self.names)})" if self.names else '')


class Observation(NamedTuple):
    """A batch of observations: state (N, state_dim) float32, pixels (N, C, H, W) uint8."""

    state: torch.Tensor
    pixels: Optional[torch.Tensor] = None


def split_observation(obs) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """Return (state, pixels) of an ``Observation`` or of a plain state tensor."""
    if isinstance(obs, Observation):
        return obs.state, obs.pixels
    return obs, None


class Task(abc.ABC):
    """
    One robot task, defined once.

    Subclasses set the class attributes and implement the abstract methods. Reward terms
    are small named functions ``fn(task, prev_measurement, measurement, action) -> (N,)``
    listed in ``REWARD_TERMS``; their scales live in ``config.reward_scales`` (a term
    without a scale, or a scale without a term, is refused).
    """

    #: Registered name of the task (the registry key), e.g. 'racecar_parking'.
    NAME: ClassVar[str] = ''
    #: The declare-once configuration dataclass.
    CONFIG: ClassVar[type] = type(None)
    #: Named reward terms; see the class docstring.
    REWARD_TERMS: ClassVar[Dict[str, Callable]] = {}
    #: Config fields a run-time parameter may override (everything else comes from the
    #: checkpoint the policy was trained with).
    OVERRIDABLE: ClassVar[FrozenSet[str]] = frozenset()
    #: Names of the measurement fields, used in non-finite-value messages.
    MEASUREMENT_FIELDS: ClassVar[Tuple[str, ...]] = ()

    def __init__(self, config: Any = None):
        """Use ``config`` (validated) or a fresh default one."""
        self.config = config_spec.validate(config if config is not None else self.CONFIG())
        scales = dict(self.config.reward_scales)
        missing = sorted(set(self.REWARD_TERMS) - set(scales))
        unknown = sorted(set(scales) - set(self.REWARD_TERMS))
        if missing or unknown:
            raise ValueError(f'{self.NAME}: reward_scales must name exactly the terms '
                             f'{sorted(self.REWARD_TERMS)}; missing {missing}, unknown '
                             f'{unknown}')

    # ------------------------------------------------------------------ specs and timing
    @property
    @abc.abstractmethod
    def observation_spec(self) -> ObservationSpec:
        """Shape of what the policy sees."""

    @property
    @abc.abstractmethod
    def action_spec(self) -> ActionSpec:
        """Shape and labels of the normalised action."""

    @property
    def control_hz(self) -> float:
        """Control rate (Hz)."""
        return float(self.config.control_hz)

    @property
    def episode_steps(self) -> int:
        """Return the number of steps after which an episode is truncated."""
        return int(self.config.episode_steps)

    @property
    def action_delay_steps(self) -> int:
        """Control periods between a command and its effect (actuator latency)."""
        return int(getattr(self.config, 'action_delay_steps', 0))

    @property
    def action_delay_s(self) -> float:
        """Actuation latency in seconds, derived from the steps and the control rate."""
        return self.action_delay_steps / self.control_hz

    # ------------------------------------------------------------------ episode pieces
    @abc.abstractmethod
    def start_measurements(self, n: int, generator: Optional[torch.Generator] = None,
                           device='cpu'):
        """Sample ``n`` start states (used by simulators and the sim bridge)."""

    @abc.abstractmethod
    def new_history(self, n: int, device='cpu'):
        """Return a history with ``reset(m, mask)``, ``push(m, a)``, ``observation()``."""

    @abc.abstractmethod
    def terminated(self, measurement) -> torch.Tensor:
        """Return (N,) bool: the episode ends here (e.g. the robot left its workspace)."""

    def termination_reason(self, measurement) -> str:
        """Return the recorded reason of a termination (one robot)."""
        return 'terminated'

    @abc.abstractmethod
    def success(self, measurement) -> torch.Tensor:
        """Return (N,) bool: the task counts as solved in this state."""

    def success_ends_episode(self) -> bool:
        """
        Return whether reaching success ends the episode (reason ``success``).

        False (the default): success is judged in the state where the time limit ends the
        episode (the car must still be parked then). A task whose goal is an event (the
        Panda's pick: the cube lifted) returns True, so the episode ends, as a terminal
        state, the step the goal is reached: in every simulator and on the robot alike
        (``episode_end``).
        """
        return False

    def episode_end(self, measurement, steps) -> Tuple[torch.Tensor, torch.Tensor,
                                                       torch.Tensor, torch.Tensor]:
        """
        Decide how the step that reached ``measurement`` ends, (N,) bool each.

        ``steps`` counts the steps of the episode including this one. Returns
        (terminated, truncated, success, failed): ``failed`` is ``terminated()`` (a limit
        broken); ``terminated`` adds success where ``success_ends_episode()``; ``truncated``
        is the time limit where not terminated; ``success`` is meaningful where the episode
        ended (success reached, or the time limit in a solved state) and never where a
        limit was broken.
        """
        failed = self.terminated(measurement)
        solved = self.success(measurement) & ~failed
        terminated = failed | solved if self.success_ends_episode() else failed
        truncated = torch.as_tensor(steps >= self.episode_steps,
                                    device=failed.device) & ~terminated
        return terminated, truncated, solved & (terminated | truncated), failed

    def safety_violation(self, measurement) -> str:
        """
        Return why a (1, ...) measurement breaks a safety limit, or '' when it does not.

        On the robot the episode is aborted with this reason and the robot stopped;
        simulators treat the same limits as termination, so sim and real agree.
        """
        return ''

    def metrics(self, measurement) -> Dict[str, torch.Tensor]:
        """Per-robot (N,) quantities logged at the end of an episode."""
        return {}

    def check_measurement(self, measurement) -> None:
        """Raise SafetyAbort naming the first non-finite field of a (1, ...) measurement."""
        values = torch.as_tensor(measurement).reshape(-1).tolist()
        names = self.MEASUREMENT_FIELDS or tuple(f'm{i}' for i in range(len(values)))
        for name, value in zip(names, values):
            if not math.isfinite(value):
                raise SafetyAbort(f'non_finite_observation: {name}={value}')

    # ------------------------------------------------------------------ actions
    @abc.abstractmethod
    def action_to_command(self, action) -> Dict[str, float]:
        """Convert one normalised action into hardware units (named command fields)."""

    @abc.abstractmethod
    def command_to_action(self, command: Dict[str, float]) -> torch.Tensor:
        """Convert a hardware command back into the normalised action (clipped)."""

    # ------------------------------------------------------------------ reward
    def reward_terms(self, prev_measurement, measurement, action) -> Dict[str, torch.Tensor]:
        """Unscaled reward terms by name, each (N,)."""
        return {name: fn(self, prev_measurement, measurement, action)
                for name, fn in self.REWARD_TERMS.items()}

    def reward(self, terms: Dict[str, torch.Tensor]
               ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Sum the scaled terms; returns the total (N,) and the scaled terms by name."""
        scales = self.config.reward_scales
        scaled = {name: scales[name] * value for name, value in terms.items()}
        return sum(scaled.values()), scaled

    # ------------------------------------------------------------------ run info
    def to_run_info(self) -> Dict[str, Any]:
        """Plain-data description stored with checkpoints and bags."""
        return {'task': self.NAME, 'task_config': config_spec.to_dict(self.config)}

    def describe(self) -> str:
        """One line: name, observation and action."""
        return (f'{self.NAME}: {self.observation_spec.describe()}, '
                f'{self.action_spec.describe()}, {self.control_hz:g} Hz, '
                f'{self.episode_steps} steps')
