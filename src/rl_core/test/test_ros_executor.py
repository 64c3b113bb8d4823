# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The nodes' executor: chosen by SIM2ONLINE_EXECUTOR, and both kinds run every callback."""

import os
import threading
import time

import pytest

rclpy = pytest.importorskip('rclpy')


def test_kind_comes_from_the_environment(monkeypatch):
    from rl_core import ros_executor
    monkeypatch.delenv('SIM2ONLINE_EXECUTOR', raising=False)
    assert ros_executor.executor_kind() == 'events'
    monkeypatch.setenv('SIM2ONLINE_EXECUTOR', 'Single')
    assert ros_executor.executor_kind() == 'single'
    monkeypatch.setenv('SIM2ONLINE_EXECUTOR', 'multi')
    with pytest.raises(ValueError, match="SIM2ONLINE_EXECUTOR='multi'"):
        ros_executor.executor_kind()


@pytest.mark.parametrize('kind', ['events', 'single'])
def test_spin_serves_timers_topics_services_and_futures_until_told(monkeypatch, kind):
    from rl_core import ros_executor
    from std_msgs.msg import String
    from std_srvs.srv import Trigger
    monkeypatch.setenv('SIM2ONLINE_EXECUTOR', kind)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(os.environ.get('ROS_DOMAIN_ID', '0')))
    try:
        node = rclpy.create_node(f'executor_probe_{kind}', context=context)
        seen = {'timer': 0, 'topic': [], 'service': 0, 'answer': None}
        done = threading.Event()
        pub = node.create_publisher(String, 'executor_probe', 10)

        def on_timer():
            seen['timer'] += 1
            pub.publish(String(data=f"tick {seen['timer']}"))
            if seen['timer'] == 3:
                client.call_async(Trigger.Request()).add_done_callback(
                    lambda f: (seen.update(answer=f.result().message), done.set()))

        def on_request(request, response):
            seen['service'] += 1
            response.success, response.message = True, 'served'
            return response
        node.create_timer(0.05, on_timer)
        node.create_subscription(String, 'executor_probe', lambda m: seen['topic'].append(m.data),
                                 10)
        node.create_service(Trigger, 'executor_probe_srv', on_request)
        client = node.create_client(Trigger, 'executor_probe_srv')
        started = time.monotonic()
        spun = ros_executor.spin(node, until=lambda: done.is_set() or
                                 time.monotonic() - started > 20)
        try:
            from rclpy.experimental import EventsExecutor  # noqa: F401
            have_events = True
        except ImportError:  # an older system rclpy: the single-threaded one stands in
            have_events = False
        assert spun == (kind if have_events else 'single')
        assert done.is_set(), seen
        assert seen['timer'] >= 3 and 'tick 1' in seen['topic']
        assert seen['service'] == 1 and seen['answer'] == 'served'
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def test_spin_until_returns_when_the_condition_holds_or_after_the_timeout():
    from rclpy.executors import SingleThreadedExecutor
    from rl_core.ros_executor import spin_until
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(os.environ.get('ROS_DOMAIN_ID', '0')))
    try:
        node = rclpy.create_node('spin_until_probe', context=context)
        ex = SingleThreadedExecutor(context=context)
        ex.add_node(node)
        ticks = []
        node.create_timer(0.02, lambda: ticks.append(1))
        assert spin_until(ex, lambda: len(ticks) >= 3, timeout=10.0)   # timers ran
        started = time.monotonic()
        assert spin_until(ex, lambda: False, timeout=0.2) is False
        assert time.monotonic() - started >= 0.2
        ex.shutdown()
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


@pytest.mark.parametrize('kind', ['events', 'single'])
def test_a_signal_ends_the_spin_between_turns_and_drain_takes_what_is_left(monkeypatch,
                                                                           kind):
    import signal
    from rl_core import ros_executor
    from std_msgs.msg import String
    monkeypatch.setenv('SIM2ONLINE_EXECUTOR', kind)
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=int(os.environ.get('ROS_DOMAIN_ID', '0')))
    try:
        stopping = ros_executor.stop_on_signals()
        node = rclpy.create_node(f'drain_probe_{kind}', context=context)
        got, drained = [], []
        pub = node.create_publisher(String, 'drain_probe', 100)
        node.create_subscription(String, 'drain_probe', lambda m: got.append(m.data), 100)

        def on_timer():
            # The signal arrives inside a callback: it must not raise there.
            if len(got) < 3:
                pub.publish(String(data=f'before {len(got)}'))
            elif not stopping.is_set():
                os.kill(os.getpid(), signal.SIGTERM)
                for i in range(5):  # published after the stop: the drain takes them
                    pub.publish(String(data=f'after {i}'))
        node.create_timer(0.05, on_timer)
        started = time.monotonic()
        ros_executor.spin(node, until=lambda: stopping.is_set() or
                          time.monotonic() - started > 20,
                          then=lambda ex: drained.append(
                              ros_executor.drain(ex, node, lambda: len(got), quiet_s=0.3)))
        assert stopping.is_set()
        assert [m for m in got if m.startswith('after')] == [f'after {i}' for i in range(5)]
        assert drained and drained[0] >= 1
        node.destroy_node()
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        rclpy.shutdown(context=context)


RUN_NODE_SCRIPT = """
import sys, time
from rclpy.node import Node
from rl_core import ros_executor

mode, log = sys.argv[1], open(sys.argv[2], 'a', buffering=1)


class Probe(Node):
    def __init__(self):
        if mode == 'refuse':
            raise ValueError('probe.gain=-1 is out of range')
        super().__init__('run_node_probe')
        self.create_timer(0.05, self.slow)

    def slow(self):
        log.write('callback started\\n')
        time.sleep(0.6)  # SIGINT lands here: it must not raise inside the callback
        log.write('callback finished\\n')


def on_exit(node):
    log.write(f'on_exit context_ok={node.context.ok()}\\n')


sys.exit(ros_executor.run_node(Probe, 'run_node_probe', (ValueError,), on_exit=on_exit))
"""


@pytest.mark.parametrize('sig', ['SIGINT', 'SIGTERM'])
def test_run_node_stops_between_callbacks_and_runs_on_exit_with_a_valid_context(tmp_path,
                                                                                sig):
    import signal
    import subprocess
    import sys
    log = tmp_path / 'log.txt'
    log.touch()
    proc = subprocess.Popen([sys.executable, '-c', RUN_NODE_SCRIPT, 'run', str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while 'callback started' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(getattr(signal, sig))
        out = proc.communicate(timeout=30)[0]
    finally:
        proc.kill()
    lines = log.read_text().splitlines()
    assert proc.returncode == 0, out
    assert 'Traceback' not in out and 'KeyboardInterrupt' not in out, out
    assert lines[-1] == 'on_exit context_ok=True', lines
    assert lines[-2] == 'callback finished', lines  # the callback the signal hit completed


def test_run_node_refuses_a_bad_start_with_exit_2_and_the_reason(tmp_path):
    import subprocess
    import sys
    log = tmp_path / 'log.txt'
    done = subprocess.run([sys.executable, '-c', RUN_NODE_SCRIPT, 'refuse', str(log)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done
    assert 'refusing to start: probe.gain=-1 is out of range' in done.stderr + done.stdout
    assert 'Traceback' not in done.stderr
