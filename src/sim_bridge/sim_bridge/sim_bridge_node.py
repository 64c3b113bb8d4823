# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Sim bridge node: hosts simulation plug-ins behind the real drivers' topics.

Parameters: ``plugins`` (instance names), ``<name>.plugin`` ('module:Class'), the plug-in's
own ``<name>.*`` parameters, ``physics_rate_hz`` and ``publish_clock``. Each plug-in
implements configure(node, name) / activate() / step(dt) / publish(stamp) /
deactivate() / cleanup(). The node steps physics in wall-clock real time.
"""

import importlib

from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
import torch

DEFAULT_PLUGINS = {'racecar': 'sim_bridge.racecar_bridge:RacecarBridge'}


class SimBridgeNode(Node):
    """Steps every plug-in at the physics rate and lets it publish."""

    def __init__(self):
        """Load and activate the configured plug-ins."""
        super().__init__('sim_bridge')
        names = self.declare_parameter('plugins', ['racecar'], ParameterDescriptor(
            description='Simulation plug-in instance names.', read_only=True)).value
        rate = self.declare_parameter('physics_rate_hz', 100.0, ParameterDescriptor(
            description='Physics steps (and pose messages) per second.', read_only=True,
            floating_point_range=[FloatingPointRange(from_value=1.0, to_value=10000.0)])).value
        self.publish_clock = self.declare_parameter('publish_clock', False, ParameterDescriptor(
            description='Publish /clock with the simulation time.', read_only=True)).value
        self.plugins = []
        for name in names:
            path = self.declare_parameter(f'{name}.plugin', DEFAULT_PLUGINS.get(name, ''),
                                          ParameterDescriptor(description='module:Class',
                                                              read_only=True)).value
            module, _, cls = path.partition(':')
            plugin = getattr(importlib.import_module(module), cls)()
            plugin.configure(self, name)
            plugin.activate()
            self.plugins.append(plugin)
        self.dt = 1.0 / rate
        self.sim_time_ns = 0
        self.clock_pub = self.create_publisher(Clock, '/clock', 10) if self.publish_clock else None
        self.create_timer(self.dt, self.tick)

    def tick(self):
        """One physics step of every plug-in, then their outputs."""
        for plugin in self.plugins:
            plugin.step(self.dt)
        self.sim_time_ns += int(self.dt * 1e9)
        stamp = self.get_clock().now().to_msg()
        for plugin in self.plugins:
            plugin.publish(stamp)
        if self.clock_pub is not None:
            msg = Clock()
            msg.clock.sec, msg.clock.nanosec = divmod(self.sim_time_ns, 1_000_000_000)
            self.clock_pub.publish(msg)

    def shutdown(self):
        """Deactivate and clean up every plug-in."""
        for plugin in self.plugins:
            plugin.deactivate()
            plugin.cleanup()


def main(args=None):
    """Run the bridge until shutdown."""
    # Tiny tensors only: one thread, so this process never competes with the learner.
    torch.set_num_threads(1)
    try:
        rclpy.init(args=args)
        try:
            node = SimBridgeNode()
            try:
                rclpy.spin(node)
            finally:
                node.shutdown()
        finally:
            rclpy.try_shutdown()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == '__main__':
    main()
