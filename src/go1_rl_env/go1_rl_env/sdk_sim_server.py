# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The simulated Go1 answering at the SDK level, on loopback, in real time.

``Go1UdpSimServer`` plays the Go1's motor controller for the legacy UDP SDK: a thread
steps ``Go1Sim`` one physics step (0.004 s) at a time in real time, applies the newest valid
LowCmd it received (the SDK's kp/kd/tau law per motor, see ``go1_rl_env.sim``), and answers
every step with a LowState packet (valid CRC) built from the simulated motors, IMU and
foot forces. Packets of the wrong length or with a bad CRC are dropped and counted, as the
robot does. A driver built on the real SDK therefore runs unchanged against it.
"""

import threading
import time
from typing import Optional

from go1_rl_env import legacy_udp
from go1_rl_env.sim import Go1Sim


class Go1UdpSimServer:
    """Real-time simulated Go1 behind the legacy UDP protocol (127.0.0.1 only)."""

    def __init__(self, sim: Go1Sim, port: int = 0, host: str = '127.0.0.1',
                 realtime: bool = True):
        """Bind the robot port (0: any free port) on a loopback ``host``."""
        if not host.startswith('127.'):
            raise ValueError(f'host {host!r}: the simulated robot listens on loopback only')
        self.sim = sim
        self.end = legacy_udp.RobotEnd(host, port)
        self.realtime = realtime
        self.lock = threading.Lock()
        self.commands_applied = 0
        self.last_command: Optional[dict] = None
        self._stop = threading.Event()
        self.thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        """Return the UDP port the simulated robot listens on."""
        return self.end.port

    @property
    def rejected(self) -> dict:
        """Return counts of dropped packets by reason (length, crc, header)."""
        return dict(self.end.rejected)

    def start(self) -> None:
        """Start the robot thread."""
        self.thread = threading.Thread(target=self._run, name='go1_udp_sim', daemon=True)
        self.thread.start()

    def step_once(self) -> None:
        """Apply the newest command, advance one physics step and answer with LowState."""
        cmd = self.end.receive()
        with self.lock:
            if cmd is not None:
                self.last_command = cmd
                self.commands_applied += 1
            r = self.sim.sdk_step(cmd)
            packet = legacy_udp.pack_low_state(
                r['q'], r['dq'], r['tau_est'], r['quaternion'], r['gyro'], r['accel'],
                r['foot_force'], tick=int(self.sim.time * 1e6))
        self.end.send(packet)

    def _run(self) -> None:
        dt = self.sim.dt
        next_t = time.monotonic()
        while not self._stop.is_set():
            self.step_once()
            if self.realtime:
                next_t += dt
                delay = next_t - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -0.1:   # fell far behind (loaded machine): do not burst
                    next_t = time.monotonic()

    def stop(self) -> None:
        """Stop the thread and close the socket."""
        self._stop.set()
        if self.thread is not None:
            self.thread.join(timeout=2.0)
        self.end.close()
