# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The hardware adapter interface: one per robot, hosted by the generic environment node.

The adapter is the only robot-specific part of the environment node. It subscribes to the
robot driver's measurements, converts the agent's normalised actions into hardware commands
with the task's own conversion (``Task.action_to_command``), commands a stop, and resets
the robot. The node calls, in this order: ``configure(node, task, prefix)`` (declare the
adapter's parameters under ``prefix``, create its topics), then per control step
``latest()`` and ``command(action)``, ``stop()`` whenever an episode ends or a fault occurs,
``reset()`` before each episode, and ``cleanup()`` on the way out.

A reset is a ``ResetFuture`` the adapter completes from its callbacks; the node checks it at
the control rate and aborts the episode with the adapter's message if it fails, or with a
timeout reason if it does not finish within the node's ``reset_timeout_s``. Between
episodes (also while a reset runs) the node calls ``stop()`` every tick as a keep-alive; an
adapter whose reset moves the robot itself keeps that motion going through it. On an abort
or an e-stop the node first calls ``cancel_reset()``: any motion of a running reset ends
there, and ``stop()`` then holds the robot.
"""

import abc
import threading
from typing import Any, Optional, Sequence, Tuple


class ResetFuture:
    """Outcome of a reset: pending, then succeeded or failed with a message."""

    def __init__(self):
        """Start pending."""
        self._done = threading.Event()
        self.ok = False
        self.message = ''

    @classmethod
    def finished(cls, ok: bool, message: str = '') -> 'ResetFuture':
        """Return an already completed future."""
        future = cls()
        future.set_result(ok, message)
        return future

    def set_result(self, ok: bool, message: str = '') -> None:
        """Complete the reset (first completion wins)."""
        if not self._done.is_set():
            self.ok, self.message = bool(ok), message
            self._done.set()

    def done(self) -> bool:
        """Return whether the reset has completed (either way)."""
        return self._done.is_set()


class HardwareAdapter(abc.ABC):
    """Measurements in, commands out, stop, reset: the robot behind the env node."""

    def configure(self, node, task, prefix: str) -> None:
        """Keep the node and the task; subclasses create topics and declare parameters."""
        self.node = node
        self.task = task
        self.prefix = prefix

    @abc.abstractmethod
    def latest(self) -> Optional[Tuple[Any, float]]:
        """Return (newest measurement (1, ...), its arrival time in node seconds) or None."""

    @abc.abstractmethod
    def command(self, action: Sequence[float]) -> None:
        """Apply one normalised action in [-1, 1] (converted with the task's scaling)."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Command the robot to a safe stop."""

    def not_ready(self) -> str:
        """Return why an episode cannot start now ('' when it can), e.g. a missing service."""
        return ''

    def reset(self) -> ResetFuture:
        """Bring the robot to a start state; default: nothing to do (operator places it)."""
        return ResetFuture.finished(True, 'no automatic reset')

    def cancel_reset(self) -> None:
        """Abandon a running reset (abort, e-stop): end any motion it commands."""

    def describe_source(self) -> str:
        """Name of the measurement source, used in stale/missing-data messages."""
        return 'the robot driver'

    def cleanup(self) -> None:
        """Release resources."""
