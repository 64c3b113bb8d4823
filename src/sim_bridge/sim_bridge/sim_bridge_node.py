# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Sim bridge node: hosts simulation plug-ins behind the real drivers' topics.

Parameters: ``plugins`` (instance names), ``<name>.task`` (a registered task name whose
robot provides the plug-in; default: the graph's ``task.name``), the plug-in's own
``<name>.*`` parameters, ``physics_rate_hz`` and ``publish_clock``. The task itself comes
from the policy's checkpoint (``task.checkpoint``, as for the env node), so the simulated
robot uses the same start poses, action calibration and latency as the policy's task.
Each plug-in implements configure(node, name, task) / activate() / step(dt) /
publish(stamp) / deactivate() / cleanup(). The node steps physics in wall-clock real time.
With ``publish_clock`` the simulation time goes out on ``/clock`` and is also the stamp of
everything the plug-ins publish, so nodes run with ``use_sim_time`` see one time base;
without it, stamps are this node's clock.
This package names no robot: plug-ins are found through ``rl_core.registry``.
"""

from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.node import Node
from rl_core import registry, ros_executor, ros_params
from rl_core.ros_diagnostics import Health
from rl_core.run_info import resolve_task
from rosgraph_msgs.msg import Clock
import torch


class SimBridgeNode(Node):
    """Steps every plug-in at the physics rate and lets it publish."""

    def __init__(self):
        """Load and activate the configured plug-ins."""
        super().__init__('sim_bridge')
        task, task_plugin = ros_params.declare_task(self)
        names = self.declare_parameter('plugins', ['robot'], ParameterDescriptor(
            description='Simulation plug-in instance names.', read_only=True)).value
        rate = self.declare_parameter('physics_rate_hz', 100.0, ParameterDescriptor(
            description='Physics steps (and pose messages) per second.', read_only=True,
            floating_point_range=[FloatingPointRange(from_value=1.0, to_value=10000.0)])).value
        self.publish_clock = self.declare_parameter('publish_clock', False, ParameterDescriptor(
            description='Publish /clock with the simulation time.', read_only=True)).value
        self.plugins = []
        for name in names:
            task_name = self.declare_parameter(f'{name}.task', task_plugin.name,
                                               ParameterDescriptor(
                                                   description='Registered task whose robot '
                                                   'this plug-in simulates.',
                                                   read_only=True)).value
            robot = registry.load(task_name)
            if not robot.bridge:
                raise ValueError(f'task {task_name} registers no sim bridge plug-in')
            plugin_task = task if robot.name == task_plugin.name else resolve_task(task_name)[0]
            plugin = registry.load_object(robot.bridge)()
            plugin.configure(self, name, plugin_task)
            plugin.activate()
            self.plugins.append(plugin)
        self.dt = 1.0 / rate
        self.sim_time_ns = 0
        self.clock_pub = self.create_publisher(Clock, '/clock', 10) if self.publish_clock else None
        self.create_timer(self.dt, self.tick)
        self.health = Health(self, hardware_id='simulation')
        self.health.ok(f'simulating {len(self.plugins)} robot(s)', plugins=','.join(names),
                       physics_rate_hz=rate)

    def tick(self):
        """One physics step of every plug-in, then their outputs."""
        for plugin in self.plugins:
            plugin.step(self.dt)
        self.sim_time_ns += int(self.dt * 1e9)
        if self.clock_pub is not None:
            msg = Clock()
            msg.clock.sec, msg.clock.nanosec = divmod(self.sim_time_ns, 1_000_000_000)
            self.clock_pub.publish(msg)
            stamp = msg.clock
        else:
            stamp = self.get_clock().now().to_msg()
        for plugin in self.plugins:
            plugin.publish(stamp)

    def shutdown(self):
        """Deactivate and clean up every plug-in."""
        for plugin in self.plugins:
            plugin.deactivate()
            plugin.cleanup()


def main(args=None):
    """Run the bridge until shutdown."""
    # Tiny tensors only: one thread, so this process never competes with the learner.
    torch.set_num_threads(1)
    return ros_executor.run_node(SimBridgeNode, 'sim_bridge', ros_params.start_errors(),
                                 on_exit=SimBridgeNode.shutdown, args=args)


if __name__ == '__main__':
    main()
