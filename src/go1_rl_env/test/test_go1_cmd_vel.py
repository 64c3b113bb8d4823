# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Deployment commands from cmd_vel (geometry_msgs/Twist) over DDS into the Go1 adapter."""

import time

from geometry_msgs.msg import Twist
from go1_rl_env.ros_adapter import Go1Adapter
from go1_rl_env.task import Go1JoystickTask
import numpy as np
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter


@pytest.fixture
def world():
    rclpy.init()
    task = Go1JoystickTask()
    env = Node('rl_env', parameter_overrides=[
        Parameter('adapter.command_source', value='cmd_vel'),
        Parameter('adapter.reset_service', value='')])
    adapter = Go1Adapter()
    adapter.configure(env, task, 'adapter')
    joystick = Node('joystick')
    pub = joystick.create_publisher(Twist, 'cmd_vel', 10)
    ex = SingleThreadedExecutor()
    ex.add_node(env)
    ex.add_node(joystick)
    yield task, adapter, pub, ex
    ex.shutdown()
    env.destroy_node()
    joystick.destroy_node()
    rclpy.shutdown()


def send(pub, ex, adapter, vx, vy, wz, timeout=10.0):
    msg = Twist()
    msg.linear.x, msg.linear.y, msg.angular.z = vx, vy, wz
    before = adapter.cmd_vel
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pub.publish(msg)
        ex.spin_once(timeout_sec=0.05)
        if adapter.cmd_vel is not before:
            return True
    return False


def test_cmd_vel_drives_the_command_and_is_checked(world):
    task, adapter, pub, ex = world
    assert np.allclose(adapter.current_command(), 0.0)  # nothing heard: stand still
    assert send(pub, ex, adapter, 0.6, -0.2, 0.3)
    assert np.allclose(adapter.current_command(), [0.6, -0.2, 0.3])
    # Outside what the policy was trained on: clipped to the task's command_range.
    limit = task.config.command_range
    assert send(pub, ex, adapter, 5.0, -3.0, 0.1)
    assert np.allclose(adapter.current_command(), [limit[0], -limit[1], 0.1])
    # NaN is refused: the last good command stays, and goes to zero once 0.5 s old.
    assert not send(pub, ex, adapter, float('nan'), 0.0, 0.0, timeout=1.0)
    assert adapter.cmd_vel is not None
    adapter.cmd_vel = (adapter.cmd_vel[0], time.monotonic() - 0.6)
    assert np.allclose(adapter.current_command(), 0.0)
