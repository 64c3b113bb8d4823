# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Simulated race car behind the real car's interface (no ROS).

Commands arrive in hardware units (steering angle in rad, motor duty), are converted back
into the normalised action with the task's own calibration (``Task.command_to_action``)
and take effect after the task's actuation latency; the car integrates the bicycle model
of a named variant (``racecar_rl_env.variants``: the 'real' car by default) and reports
only its pose, as motion capture would. Resets draw the start pose from the task.

A brake command (``set_command(..., brake=True)`` or ``brake()``, after the same latency)
brakes actively, as a car's speed controller does: a motor duty opposing vx, proportional
to it (``BRAKE_GAIN``) and saturated at full duty, re-evaluated every ``BRAKE_STEP_S``; it
never reverses the car (vx is clamped at zero when it would change sign) and holds the car
once slower than ``BRAKE_HOLD_SPEED``. Measured from 3 m/s to below 0.05 m/s: 0.39 s for the
nominal car and 0.51 s for the 'real' variant, plus the 0.033 s command latency; coasting
with zero duty takes 4.3 s (``test/test_sim_backend.py``).
"""

import collections
from typing import Dict, Optional, Sequence, Union

from racecar_rl_env.dynamics import nominal_params, step_dynamics
from racecar_rl_env.task import ParkingTask
from racecar_rl_env.variants import resolve_variant
import torch

BRAKE_GAIN = 2.5          # normalised brake duty per m/s of vx (full duty above 0.4 m/s)
BRAKE_STEP_S = 0.005      # the brake duty is re-evaluated at least this often (s)
BRAKE_HOLD_SPEED = 0.01   # m/s: slower than this, a braking car is held at rest


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
        self.braking = False
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
        self.braking = False
        self.pending.clear()

    def set_command(self, steering_angle: float, throttle: float, brake: bool = False) -> None:
        """Queue a command (or a brake); it takes effect ``command_delay_s`` later."""
        if brake:
            action = torch.zeros(1, 2)
        else:
            action = self.task.command_to_action({'steering_angle': steering_angle,
                                                  'throttle': throttle})
        self.pending.append((self.time + self.command_delay_s, action, bool(brake)))

    def brake(self) -> None:
        """Queue an active brake to rest (after the command latency, as any command)."""
        self.set_command(0.0, 0.0, brake=True)

    def brake_action(self) -> torch.Tensor:
        """Return the action of the active brake: duty opposing vx, zero at rest."""
        vx = float(self.state[0, 3])
        duty = 0.0 if abs(vx) < BRAKE_HOLD_SPEED else -max(-1.0, min(1.0, BRAKE_GAIN * vx))
        return torch.tensor([[0.0, duty]])

    def advance(self, dt: float) -> None:
        """Integrate ``dt`` seconds with the command in force."""
        end = self.time + dt
        while True:
            # Commands due by the end of this step take effect at its start (as before).
            while self.pending and self.pending[0][0] <= end + 1e-9:
                _, self.action, self.braking = self.pending.popleft()
            left = end - self.time
            if left <= 1e-12:
                self.time = end
                return
            if not self.braking:
                self.state = step_dynamics(self.state, self.action, self.params, self.model,
                                           dt=left, substep=min(left, 0.01))
                self.time = end
                return
            h = min(BRAKE_STEP_S, left)
            self.step_brake(h)
            self.time += h

    def step_brake(self, h: float) -> None:
        """Integrate ``h`` seconds of active braking; never reverses, holds at rest."""
        vx_before = float(self.state[0, 3])
        if abs(vx_before) < BRAKE_HOLD_SPEED:
            self.state = self.state.clone()
            self.state[0, 3:] = 0.0
            return
        state = step_dynamics(self.state, self.brake_action(), self.params, self.model,
                              dt=h, substep=h)
        if float(state[0, 3]) * vx_before <= 0.0:
            state[0, 3:] = 0.0
        self.state = state

    def pose(self):
        """Return the pose of the car as (x, y, yaw)."""
        x, y, yaw = self.state[0, :3].tolist()
        return x, y, yaw

    def velocity(self):
        """Return the body-frame (vx, vy, omega)."""
        vx, vy, omega = self.state[0, 3:].tolist()
        return vx, vy, omega

    def speed(self) -> float:
        """Return the planar speed in m/s."""
        vx, vy = self.state[0, 3:5].tolist()
        return (vx * vx + vy * vy) ** 0.5
