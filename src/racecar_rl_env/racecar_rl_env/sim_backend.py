# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Simulated race car behind the real car's interface (no ROS).

Commands arrive in hardware units (steering angle in rad under the nominal servo
calibration, motor duty) after an actuation latency; the car integrates the bicycle model
(kinematic or Pacejka, optionally with shifted parameters: the 'real' car of a sim-to-sim
experiment) and reports only its pose, as motion capture would.
"""

import collections
import math
from typing import Dict, Optional, Sequence

from racecar_rl_env.dynamics import NOMINAL, nominal_params, step_dynamics
import torch


class RacecarSimBackend:
    """One car; ``set_command`` then ``advance`` at the physics rate; ``pose`` out."""

    def __init__(self, model: str = 'pacejka', param_overrides: Optional[Dict] = None,
                 command_delay_s: float = 1.0 / 30.0,
                 start_pose: Sequence[float] = (1.42, -1.04, math.pi)):
        """Build the car; ``param_overrides`` shift nominal parameters by name."""
        if model not in ('kinematic', 'pacejka'):
            raise ValueError(f"model={model!r} is not allowed: must be 'kinematic' or 'pacejka'")
        if command_delay_s < 0:
            raise ValueError(f'command_delay_s={command_delay_s} is out of range: must be >= 0')
        self.model = model
        self.params = nominal_params(1, overrides=param_overrides)
        self.command_delay_s = command_delay_s
        self.start_pose = tuple(start_pose)
        self.time = 0.0
        self.pending = collections.deque()
        self.action = torch.zeros(1, 2)
        self.state = torch.zeros(1, 6)
        self.reset()

    def reset(self, pose: Optional[Sequence[float]] = None) -> None:
        """Place the car at rest at ``pose`` (default: the start pose); stop the motor."""
        x, y, yaw = pose if pose is not None else self.start_pose
        self.state = torch.tensor([[x, y, yaw, 0.0, 0.0, 0.0]], dtype=torch.float32)
        self.action = torch.zeros(1, 2)
        self.pending.clear()

    def set_command(self, steering_angle: float, throttle: float) -> None:
        """Queue a command; it takes effect ``command_delay_s`` later."""
        steer = steering_angle / NOMINAL['steering_limit']
        duty = throttle / NOMINAL['max_throttle']
        self.pending.append((self.time + self.command_delay_s,
                             torch.tensor([[steer, duty]], dtype=torch.float32).clamp(-1, 1)))

    def advance(self, dt: float) -> None:
        """Integrate ``dt`` seconds with the command in force."""
        self.time += dt
        while self.pending and self.pending[0][0] <= self.time + 1e-9:
            self.action = self.pending.popleft()[1]
        self.state = step_dynamics(self.state, self.action, self.params, self.model, dt=dt,
                                   substep=min(dt, 0.01))

    def pose(self):
        """Return (x, y, yaw) of the car."""
        x, y, yaw = self.state[0, :3].tolist()
        return x, y, yaw
