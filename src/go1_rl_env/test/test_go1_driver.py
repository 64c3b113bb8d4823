# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The Go1 driver node over real DDS, against the simulated Go1 behind the real UDP SDK."""

import time

from diagnostic_msgs.msg import DiagnosticArray
from go1_rl_env import model
from go1_rl_env.legacy_udp import free_udp_port
from go1_rl_env.sdk_sim_server import Go1UdpSimServer
from go1_rl_env.sim import Go1Sim
import numpy as np
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rl_core import ros_qos
from rl_core.ros_executor import spin_until
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

pytest.importorskip('unitree_legged_sdk.robot_interface')


@pytest.fixture
def graph():
    from go1_rl_env.go1_driver_node import Go1DriverNode
    rclpy.init()
    sim = Go1Sim('nominal')
    sim.reset(lying=True)          # the robot lies on the floor before the operator's release
    server = Go1UdpSimServer(sim)
    server.start()
    driver = Go1DriverNode(parameter_overrides=[
        Parameter('driver.backend', value='go1_udp'),
        Parameter('driver.robot_ip', value='127.0.0.1'),
        Parameter('driver.robot_port', value=server.port),
        Parameter('driver.local_port', value=free_udp_port()),
        Parameter('driver.stand_up_s', value=1.0),
        # robot, driver and test share one Python process (GIL) on a loaded 2-core machine:
        # wider timeouts than on the robot (0.04 s / 0.1 s), the same behaviour
        Parameter('driver.command_timeout_s', value=0.1),
        Parameter('driver.state_timeout_s', value=0.5)])
    probe = Node('go1_probe')
    ex = SingleThreadedExecutor()
    ex.add_node(driver)
    ex.add_node(probe)
    yield sim, server, driver, probe, ex
    ex.shutdown()
    driver.destroy_node()
    probe.destroy_node()
    server.stop()
    rclpy.shutdown()


def test_driver_stands_the_robot_after_release_follows_targets_and_damps(graph):
    sim, server, driver, probe, ex = graph
    states, diags = [], []
    probe.create_subscription(JointState, 'go1/joint_states', states.append, ros_qos.SENSOR)
    probe.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    targets = probe.create_publisher(JointState, 'go1/joint_targets', ros_qos.COMMAND)
    estop = probe.create_publisher(Bool, 'go1/estop', ros_qos.LATCHED)
    release = probe.create_client(Trigger, 'go1/release')
    assert spin_until(ex, lambda: len(states) > 5, 5.0), 'no go1/joint_states'
    assert list(states[-1].name) == list(model.SDK_JOINT_NAMES)
    # damped until the operator releases: targets are ignored
    assert driver.loop.damping == 'no_target_yet'
    assert spin_until(ex, release.service_is_ready, 5.0)
    future = release.call_async(Trigger.Request())
    assert spin_until(ex, future.done, 5.0) and future.result().success
    msg = JointState()
    msg.name = list(model.SDK_JOINT_NAMES)
    msg.position = list(model.DEFAULT_POSE)
    assert sim.data.qpos[2] < 0.15
    assert spin_until(ex, lambda: driver.standing_up is None, 5.0)   # stand-up: 1 s
    # then the env's targets at 50 Hz (or faster: a loaded CI machine) for 1 s, and on until
    # the body is up (the simulated robot runs slower than real time when the CPU is busy)
    start = time.monotonic()
    while time.monotonic() < start + 1.0 or (sim.data.qpos[2] < 0.22 and
                                             time.monotonic() < start + 5.0):
        targets.publish(msg)
        spin_until(ex, lambda: False, 0.01)
    assert driver.loop.damping == ''
    assert sim.data.qpos[2] > 0.22 and not sim.flipped()
    np.testing.assert_allclose(states[-1].position, sim.data.qpos[7:19], atol=0.05)
    # targets stop: damping, reported on /diagnostics
    assert spin_until(ex, lambda: driver.loop.damping.startswith('command_timeout'), 1.0)
    assert spin_until(ex, lambda: any(s.message.startswith('damping: command_timeout')
                                      for d in diags for s in d.status), 3.0)
    assert server.thread.is_alive()
    assert spin_until(ex, lambda: server.last_command['kp'].max() == 0.0, 1.0), \
        (server.commands_applied, driver.loop.sent, server.last_command)
    # release again, then an e-stop damps at once
    future = release.call_async(Trigger.Request())
    assert spin_until(ex, future.done, 5.0) and future.result().success
    estop.publish(Bool(data=True))
    assert spin_until(ex, lambda: driver.loop.damping == 'estop', 2.0)
    # a target with a NaN never reaches the motors: damping instead
    estop.publish(Bool(data=False))
    future = release.call_async(Trigger.Request())
    assert spin_until(ex, future.done, 5.0) and future.result().success
    assert spin_until(ex, lambda: driver.standing_up is None, 2.0)
    msg.position[4] = float('nan')
    targets.publish(msg)
    assert spin_until(ex, lambda: driver.loop.damping.startswith('non_finite_target'), 2.0)
