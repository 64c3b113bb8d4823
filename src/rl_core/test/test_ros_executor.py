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
