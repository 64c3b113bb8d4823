# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The executor every node of the acting path spins on, chosen in one place.

``make_executor()`` returns rclpy's ``EventsExecutor`` (``rclpy.experimental``: the wait
set lives in C++ and a ready callback is dispatched without rebuilding it from Python on
every turn) where the installed rclpy has it, else the ``SingleThreadedExecutor``. Both
run every callback of the process on the spinning thread, so node code is the same for
either. ``SIM2ONLINE_EXECUTOR=single`` forces the single-threaded one (a system rclpy
whose events executor misbehaves, or a comparison run: ``bench/ros_latency_bench.py
--executor``). Measured on the race-car graph: README "Benchmarks".
"""

import os
import signal
import threading
import time

from rclpy.executors import SingleThreadedExecutor

KINDS = ('events', 'single')


def executor_kind() -> str:
    """Return the executor kind asked for by ``SIM2ONLINE_EXECUTOR`` (default events)."""
    kind = os.environ.get('SIM2ONLINE_EXECUTOR', 'events').strip().lower() or 'events'
    if kind not in KINDS:
        raise ValueError(f'SIM2ONLINE_EXECUTOR={kind!r}: expected one of {KINDS}')
    return kind


def make_executor(context=None):
    """Return ``(executor, kind)``: the events executor when available, else single."""
    if executor_kind() == 'events':
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:  # an rclpy without it (older system ROS 2)
            pass
        else:
            return EventsExecutor(context=context), 'events'
    return SingleThreadedExecutor(context=context), 'single'


def spin(node, until=None, then=None) -> str:
    """
    Spin ``node`` until shutdown (or ``until()`` is true) on ``make_executor``'s pick.

    Turns of at most 0.1 s, so a Python signal handler (Ctrl-C in a node that installs no
    rclpy handler) and ``until`` are looked at between them. ``then(executor)``, when
    given, runs after ``until()`` turned true, on the same executor (e.g. ``drain``).
    Returns the executor kind.
    """
    executor, kind = make_executor(node.context)
    executor.add_node(node)
    node.get_logger().info(f'spinning on the {kind} executor')
    try:
        while node.context.ok() and not (until is not None and until()):
            executor.spin_once(timeout_sec=0.1)
        if then is not None and node.context.ok():
            then(executor)
    finally:
        executor.remove_node(node)
        executor.shutdown()
    return kind


def stop_on_signals() -> threading.Event:
    """
    Make SIGINT and SIGTERM set the returned event instead of raising KeyboardInterrupt.

    For nodes whose callbacks must never be cut short by Ctrl-C (a bag split being
    written, a checkpoint, the robot's stop command): ``run_node`` calls it before
    ``rclpy.init(..., signal_handler_options=SignalHandlerOptions.NO)`` and spins with
    ``until=event.is_set``, for every node of the suite; the loop then ends between turns,
    with the context still valid for the way out. With
    rclpy's own handler a KeyboardInterrupt landed inside the recorder's episode-end write
    (the last split stayed unlisted) and aborted the agent in the events executor's C++.
    """
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    return stopping


def run_node(build, name: str, refused=(), until=None, then=None, on_exit=None,
             args=None) -> int:
    """
    Run one node as a process's main: what every node of the suite does on start and stop.

    rclpy starts with this module's SIGINT/SIGTERM handling (``stop_on_signals``), so a
    stop never cuts a callback short: the spin ends between turns. ``build()`` makes the
    node; one of the ``refused`` exceptions from it is logged as ``refusing to start:
    <why>`` under ``name`` and returns 2 (a node that refuses has written nothing).
    ``until(node)`` ends the spin early; ``then(node, executor)`` runs after the spin on the
    same executor (e.g. ``drain``); ``on_exit(node)`` runs on the way out whatever happened,
    with the context still valid, so a driver can still send its safe command; then the node
    is destroyed and rclpy shut down. Returns 0 after a stop.
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.signals import SignalHandlerOptions
    stopping = stop_on_signals()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    try:
        try:
            node = build()
        except tuple(refused) as exc:
            rclpy.logging.get_logger(name).fatal(f'refusing to start: {exc}')
            return 2
        spin(node, until=lambda: stopping.is_set() or (until is not None and until(node)),
             then=None if then is None else lambda executor: then(node, executor))
    except (KeyboardInterrupt, ExternalShutdownException):
        pass  # a second Ctrl-C before the handler was in place, or an external shutdown
    finally:
        try:
            if node is not None and on_exit is not None:
                on_exit(node)
        finally:
            if node is not None:
                node.destroy_node()
            rclpy.try_shutdown()
    return 0


def drain(executor, node, activity, quiet_s: float = 0.3, max_s: float = 3.0) -> int:
    """
    Spin on until ``activity()`` stays the same for ``quiet_s``; return how much it grew.

    ``activity`` counts what the node took (e.g. messages recorded): what DDS had already
    delivered to the node's readers when Ctrl-C came is taken before the way out. At most
    ``max_s`` seconds, so a publisher that keeps sending cannot hold the shutdown. The
    executor must be the one the node spun on (a fresh events executor does not see what
    was announced to the old one).
    """
    now = time.monotonic()
    end, since, first = now + max_s, now, activity()
    last = first
    while node.context.ok() and time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
        value = activity()
        if value != last:
            last, since = value, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
    return last - first


def spin_until(executor, predicate, timeout: float = 10.0) -> bool:
    """Spin ``executor`` in turns of 10 ms until ``predicate()`` or ``timeout`` s; return it."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and not predicate():
        executor.spin_once(timeout_sec=0.01)
    return bool(predicate())
