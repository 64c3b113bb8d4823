# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Velocity estimate of the car from motion-capture poses (no ROS).

Motion capture gives (x, y, yaw) at a high rate; the task needs body-frame vx, vy and the
yaw rate. Finite differences over consecutive poses are low-pass filtered (exponential
smoothing, ``smoothing`` = weight of the newest sample) and rotated into the body frame.
``pose_problem`` says why a mocap sample must not be used (non-finite values, an unset
stamp, a stamp that does not increase, a degenerate quaternion).
"""

import math
from typing import Optional, Sequence, Tuple


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Yaw (rad) of a quaternion, in (-pi, pi]."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def quaternion_from_yaw(yaw: float) -> Tuple[float, float, float, float]:
    """Return (x, y, z, w) of a rotation by ``yaw`` about z."""
    return 0.0, 0.0, math.sin(yaw / 2.0), math.cos(yaw / 2.0)


def pose_problem(stamp_s: float, position: Sequence[float], orientation: Sequence[float],
                 previous_stamp_s: Optional[float] = None) -> str:
    """
    Return why a timestamped pose must be refused, or '' when it may be used.

    ``position`` is (x, y, z), ``orientation`` a quaternion (x, y, z, w); ``previous_stamp_s``
    is the stamp of the last pose that was used: a stamp must be later than it.
    """
    if not math.isfinite(stamp_s):
        return f'non-finite stamp {stamp_s}'
    if stamp_s <= 0.0:
        return 'stamp is zero (unset)'
    for name, value in zip(('x', 'y', 'z'), position):
        if not math.isfinite(value):
            return f'non-finite position {name}={value}'
    for name, value in zip(('qx', 'qy', 'qz', 'qw'), orientation):
        if not math.isfinite(value):
            return f'non-finite orientation {name}={value}'
    norm = math.sqrt(sum(v * v for v in orientation))
    if not 0.5 < norm < 1.5:
        return f'degenerate orientation: quaternion norm {norm:.3f}'
    if previous_stamp_s is not None and stamp_s <= previous_stamp_s:
        return (f'stamp not increasing: {stamp_s:.6f} <= previous {previous_stamp_s:.6f} '
                f'({(stamp_s - previous_stamp_s) * 1e3:+.1f} ms)')
    return ''


def wrap_angle(angle: float) -> float:
    """Wrap an angle to (-pi, pi]."""
    return math.atan2(math.sin(angle), math.cos(angle))


class PoseVelocityEstimator:
    """Turns timestamped planar poses into the 6-dim car state [x, y, yaw, vx, vy, omega]."""

    def __init__(self, smoothing: float = 0.5, max_gap_s: float = 0.1):
        """``smoothing`` in (0, 1]; a gap above ``max_gap_s`` restarts the estimate."""
        if not 0.0 < smoothing <= 1.0:
            raise ValueError(f'smoothing={smoothing} is out of range: must be in (0, 1]')
        self.smoothing = smoothing
        self.max_gap_s = max_gap_s
        self.last: Optional[Tuple[float, float, float, float]] = None
        self.velocity = (0.0, 0.0, 0.0)  # world vx, world vy, omega

    def update(self, t: float, x: float, y: float, yaw: float):
        """Add a pose measured at time ``t`` (s); returns the current state estimate."""
        if self.last is not None:
            t0, x0, y0, yaw0 = self.last
            dt = t - t0
            if dt <= 0.0:
                return self.state()
            if dt > self.max_gap_s:
                self.velocity = (0.0, 0.0, 0.0)
            else:
                raw = ((x - x0) / dt, (y - y0) / dt, wrap_angle(yaw - yaw0) / dt)
                a = self.smoothing
                self.velocity = tuple(a * r + (1 - a) * v for r, v in zip(raw, self.velocity))
        self.last = (t, x, y, yaw)
        return self.state()

    def state(self):
        """Return [x, y, yaw, vx_body, vy_body, omega] (or None before the first pose)."""
        if self.last is None:
            return None
        _, x, y, yaw = self.last
        vxw, vyw, omega = self.velocity
        c, s = math.cos(yaw), math.sin(yaw)
        return [x, y, yaw, c * vxw + s * vyw, -s * vxw + c * vyw, omega]
