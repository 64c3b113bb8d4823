# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The race car's hardware adapter, hosted by the generic environment node.

Measurements: ``car/odom`` (nav_msgs/Odometry from the race-car driver: world pose,
body-frame vx/vy, yaw rate; sensor-data QoS) -> the task's (1, 6) state. Commands:
normalised actions -> ``car/command`` (rl_interfaces/DriveCommand) with the task's
calibration (``ParkingTask.action_to_command``); the driver relays them to the car's board
and brakes when they stop coming. ``stop()`` commands active braking (``brake``), not
coasting. Reset: a ``std_srvs/Trigger`` service
(``adapter.reset_service``, ``sim/reset`` in simulation); with it empty the operator
places the car (combine with ``env.require_operator_ack`` on hardware).
"""

from nav_msgs.msg import Odometry
from racecar_rl_env import racecar_constants as names
from racecar_rl_env.state_estimator import yaw_from_quaternion
from rcl_interfaces.msg import ParameterDescriptor
from rl_core import ros_qos
from rl_core.hardware import HardwareAdapter, ResetFuture
from rl_interfaces.msg import DriveCommand
from std_srvs.srv import Trigger
import torch


class RacecarAdapter(HardwareAdapter):
    """Odometry in, drive commands out, reset through a service (or the operator)."""

    def configure(self, node, task, prefix: str) -> None:
        """Declare ``<prefix>.reset_service`` and create the car's topics."""
        super().configure(node, task, prefix)
        self.reset_service = node.declare_parameter(
            f'{prefix}.reset_service', names.SIM_RESET_SERVICE, ParameterDescriptor(
                description="Trigger service placing the car at a start pose ('': the "
                            'operator places it, as on hardware).', read_only=True)).value
        self.drive_pub = node.create_publisher(DriveCommand, names.COMMAND_TOPIC,
                                               ros_qos.COMMAND)
        node.create_subscription(Odometry, names.ODOM_TOPIC, self.on_odom, ros_qos.SENSOR)
        self.reset_client = (node.create_client(Trigger, self.reset_service)
                             if self.reset_service else None)
        self._latest = None

    def on_odom(self, msg: Odometry) -> None:
        """Store the newest state [x, y, yaw, vx, vy, omega] and when it arrived."""
        p, q, t = msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist
        state = torch.tensor([[p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w),
                               t.linear.x, t.linear.y, t.angular.z]], dtype=torch.float32)
        self._latest = (state, self.node.get_clock().now().nanoseconds * 1e-9)

    def latest(self):
        """Return the newest (state (1, 6), arrival time s) or None."""
        return self._latest

    def describe_source(self) -> str:
        """Return the odometry topic."""
        return self.node.resolve_topic_name(names.ODOM_TOPIC)

    def command(self, action) -> None:
        """Send the action as a drive command in hardware units."""
        cmd = self.task.action_to_command(action)
        self._publish(cmd['steering_angle'], cmd['throttle'])

    def stop(self) -> None:
        """Brake actively to rest (zero throttle alone would let the car coast)."""
        self._publish(0.0, 0.0, brake=True)

    def _publish(self, steering_angle: float, throttle: float, brake: bool = False) -> None:
        msg = DriveCommand()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.header.frame_id = names.BODY_FRAME
        msg.steering_angle, msg.throttle = float(steering_angle), float(throttle)
        msg.brake = brake
        self.drive_pub.publish(msg)

    def not_ready(self) -> str:
        """Return why a start must wait: the reset service is not (yet) available."""
        if self.reset_client is not None and not self.reset_client.service_is_ready():
            name = self.node.resolve_service_name(self.reset_service)
            return f'reset service {name} is not available'
        return ''

    def reset(self) -> ResetFuture:
        """Call the reset service; its answer (or its absence) completes the future."""
        if self.reset_client is None:
            return super().reset()
        if not self.reset_client.service_is_ready():
            return ResetFuture.finished(False, f'reset service '
                                        f'{self.node.resolve_service_name(self.reset_service)}'
                                        ' is not available')
        future = ResetFuture()

        def done(call):
            result = call.result()
            if result is None:
                future.set_result(False, f'reset service call failed: {call.exception()}')
            else:
                future.set_result(result.success, result.message)
        self.reset_client.call_async(Trigger.Request()).add_done_callback(done)
        return future
