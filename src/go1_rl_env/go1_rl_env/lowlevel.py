# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Go1 driver's low-level loop (no ROS): re-send the latest PD target at the SDK rate.

A thread sends the newest target (joint angles with Kp/Kd) to the backend at ``sdk_hz``
and reads the robot's state. Safety, decided in this thread so a stalled ROS graph cannot
delay it:

- no new target within ``timeout_s`` (default two 50 Hz control periods): damping mode
  (Kp 0, Kd ``damping_kd``), reason ``command_timeout``;
- ``damp(reason)`` from outside (flip, joint or torque limit, e-stop, operator);
- the robot stops answering for ``state_timeout_s``: damping, reason ``robot_silent``;
- non-finite joint readings: damping, reason ``non_finite_state``.

Damping is latched until ``release()``; every switch is reported once through
``on_event(reason)``. A target is only ever built from finite numbers.
"""

import threading
import time
from typing import Callable, Optional

import numpy as np

DAMPING_KD = 2.0


class LowLevelLoop:
    """Keep a Go1 (or a Go2) fed with PD targets; damp on silence or on request."""

    def __init__(self, backend, sdk_hz: float = 500.0, timeout_s: float = 0.04,
                 state_timeout_s: float = 0.1, damping_kd: float = DAMPING_KD,
                 on_event: Optional[Callable[[str], None]] = None):
        """Wrap ``backend`` (``send(q, dq, kp, kd, tau)``, ``receive() -> dict | None``)."""
        if not 1.0 <= sdk_hz <= 2000.0:
            raise ValueError(f'sdk_hz={sdk_hz} is out of range [1, 2000]')
        self.backend = backend
        self.period = 1.0 / sdk_hz
        self.timeout_s = timeout_s
        self.state_timeout_s = state_timeout_s
        self.damping_kd = damping_kd
        self.on_event = on_event or (lambda reason: None)
        self.lock = threading.Lock()
        self.target = None          # (q, kp, kd) as numpy arrays
        self.target_time = -np.inf
        self.damping_reason = 'no_target_yet'
        self.state: Optional[dict] = None
        self.state_time = time.monotonic()
        self.sent = 0
        self._stop = threading.Event()
        self.thread: Optional[threading.Thread] = None

    # ------------------------------------------------------------------ from the node
    def set_target(self, q, kp, kd) -> None:
        """Latch a new PD target (12 joint angles, gains scalar or per joint)."""
        q = np.asarray(q, float).reshape(12)
        kp = np.broadcast_to(np.asarray(kp, float), (12,)).copy()
        kd = np.broadcast_to(np.asarray(kd, float), (12,)).copy()
        if not (np.isfinite(q).all() and np.isfinite(kp).all() and np.isfinite(kd).all()):
            self.damp('non_finite_target')
            return
        with self.lock:
            self.target = (q, kp, kd)
            self.target_time = time.monotonic()

    def damp(self, reason: str) -> None:
        """Switch to damping now (latched) and report ``reason``."""
        with self.lock:
            first = self.damping_reason == ''
            self.damping_reason = reason
            self.target = None
        if first:
            self.on_event(reason)

    def release(self) -> None:
        """Leave damping: the next target is sent again (after an operator's reset)."""
        with self.lock:
            self.damping_reason = ''
            self.target = None
            self.target_time = time.monotonic()

    @property
    def damping(self) -> str:
        """Return why the motors are damped, or '' while targets are being sent."""
        return self.damping_reason

    def latest_state(self) -> Optional[dict]:
        """Return the newest robot state and its age (s) as ``(state, age)``."""
        with self.lock:
            return (None if self.state is None else
                    (self.state, time.monotonic() - self.state_time))

    # ------------------------------------------------------------------ the thread
    def start(self) -> None:
        """Start the SDK-rate thread."""
        self.thread = threading.Thread(target=self._run, name='go1_lowlevel', daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Damp, stop the thread."""
        self.damp('shutdown')
        self._stop.set()
        if self.thread is not None:
            self.thread.join(timeout=2.0)

    def tick(self) -> None:
        """One SDK period: read the state, decide, send target or damping."""
        now = time.monotonic()
        reading = self.backend.receive()
        if reading is not None:
            if not (np.isfinite(reading['q']).all() and np.isfinite(reading['dq']).all()):
                self.damp('non_finite_state: a joint reading is NaN/inf')
            else:
                with self.lock:
                    self.state = reading
                    self.state_time = now
        elif (now - self.state_time > self.state_timeout_s
              and not self.damping_reason.startswith('robot_silent')):
            # state_time stays the last arrival, so latest_state() keeps reporting the true age
            self.damp(f'robot_silent: no state for {now - self.state_time:.2f} s')
        with self.lock:
            target, reason = self.target, self.damping_reason
            stale = target is not None and now - self.target_time > self.timeout_s
        if stale and not reason:
            self.damp(f'command_timeout: no target for {now - self.target_time:.3f} s')
            target = None
        zeros = np.zeros(12)
        if target is None or self.damping_reason:
            q = zeros if self.state is None else self.state['q']
            self.backend.send(q, zeros, zeros, np.full(12, self.damping_kd), zeros)
        else:
            q, kp, kd = target
            self.backend.send(q, zeros, kp, kd, zeros)
        self.sent += 1

    def _run(self) -> None:
        next_t = time.monotonic()
        while not self._stop.is_set():
            self.tick()
            next_t += self.period
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.1:
                next_t = time.monotonic()
