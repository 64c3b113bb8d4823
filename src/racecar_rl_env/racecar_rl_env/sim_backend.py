# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Simulated race car behind the real car's interface (no ROS).

Commands arrive in hardware units (steering angle in rad, motor duty), are converted back
into the normalised action with the task's own calibration (``Task.command_to_action``)
and take effect after the task's actuation latency; the car integrates the bicycle model
of a named variant (``racecar_rl_env.variants``: the 'real' car by default) and reports
only its pose, as motion capture would. Resets draw the start pose from the task.
"""

import collections
from typing import Dict, Optional, Sequence, Union

from racecar_rl_env.dynamics import nominal_params, step_dynamics
from racecar_rl_env.task import ParkingTask
from racecar_rl_env.variants import resolve_variant
import torch


class RacecarSimBackend:
    """One car; ``set_command`` then ``advance`` at the physics rate; ``pose`` out."""

    def __init__(self, task: Optional[ParkingTask] = None,
                 variant: Union[str, Dict] = 'real', param_overrides=None, seed: int = 0):
        """Build the car of ``variant`` (nominal parameters, optionally shifted further)."""
        self.task = task if task is not None else ParkingTask()
        v = resolve_variant(variant, param_overrides)
        self.model = v['model']
        self.overrides = v['overrides']
        self.params = nominal_params(1, overrides=self.overrides)
        self.command_delay_s = self.task.action_delay_s
        self.generator = torch.Generator().manual_seed(seed)
        self.time = 0.0
        self.pending = collections.deque()
        self.action = torch.zeros(1, 2)
        self.state = torch.zeros(1, 6)
        self.reset()

    def reset(self, pose: Optional[Sequence[float]] = None) -> None:
        """Place the car at rest at ``pose`` or a start pose of the task; stop the motor."""
        if pose is None:
            self.state = self.task.start_measurements(1, self.generator)
        else:
            x, y, yaw = pose
            self.state = torch.tensor([[x, y, yaw, 0.0, 0.0, 0.0]], dtype=torch.float32)
        self.action = torch.zeros(1, 2)
        self.pending.clear()

    def set_command(self, steering_angle: float, throttle: float) -> None:
        """Queue a command; it takes effect ``command_delay_s`` later."""
        action = self.task.command_to_action({'steering_angle': steering_angle,
                                              'throttle': throttle})
        self.pending.append((self.time + self.command_delay_s, action))

    def advance(self, dt: float) -> None:
        """Integrate ``dt`` seconds with the command in force."""
        self.time += dt
        while self.pending and self.pending[0][0] <= self.time + 1e-9:
            self.action = self.pending.popleft()[1]
        self.state = step_dynamics(self.state, self.action, self.params, self.model, dt=dt,
                                   substep=min(dt, 0.01))

    def pose(self):
        """Return the pose of the car as (x, y, yaw)."""
        x, y, yaw = self.state[0, :3].tolist()
        return x, y, yaw

    def speed(self) -> float:
        """Return the planar speed in m/s."""
        vx, vy = self.state[0, 3:5].tolist()
        return (vx * vx + vy * vy) ** 0.5
