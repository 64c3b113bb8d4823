# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Race-car driver: motion-capture pose in, state estimate out (sim and hardware alike).

Subscribes ``/mocap/car/pose`` (geometry_msgs/PoseStamped, as a mocap system publishes it)
and publishes ``/car/odom`` (nav_msgs/Odometry: pose, body-frame vx/vy and yaw rate). Drive
commands go from the env node straight to the car's onboard board on
``/car/drive_command``. A pose with NaN is forwarded as NaN so the env node aborts safely.
"""

from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from racecar_rl_env import racecar_constants as names
from racecar_rl_env.state_estimator import (PoseVelocityEstimator, quaternion_from_yaw,
                                            yaw_from_quaternion)
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
import torch


class RacecarDriverNode(Node):
    """Turns mocap poses into odometry with a filtered finite-difference velocity."""

    def __init__(self):
        """Declare parameters and topics."""
        super().__init__('racecar_driver')
        smoothing = self.declare_parameter('driver.velocity_smoothing', 0.5, ParameterDescriptor(
            description='Weight of the newest finite-difference velocity sample.',
            floating_point_range=[FloatingPointRange(from_value=0.01, to_value=1.0)],
            read_only=True)).value
        gap = self.declare_parameter('driver.max_pose_gap_s', 0.1, ParameterDescriptor(
            description='A pose gap longer than this (s) restarts the velocity estimate.',
            floating_point_range=[FloatingPointRange(from_value=0.001, to_value=10.0)],
            read_only=True)).value
        self.estimator = PoseVelocityEstimator(smoothing, gap)
        self.pub = self.create_publisher(Odometry, names.ODOM_TOPIC, 10)
        self.create_subscription(PoseStamped, names.MOCAP_POSE_TOPIC, self.on_pose, 10)

    def on_pose(self, msg: PoseStamped):
        """Estimate velocities and publish odometry."""
        q = msg.pose.orientation
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        yaw = yaw_from_quaternion(q.x, q.y, q.z, q.w)
        x, y = msg.pose.position.x, msg.pose.position.y
        if all(v == v for v in (x, y, yaw)):
            state = self.estimator.update(t, x, y, yaw)
        else:
            state = [x, y, yaw, float('nan'), float('nan'), float('nan')]
        out = Odometry()
        out.header.stamp = msg.header.stamp
        out.header.frame_id = names.WORLD_FRAME
        out.child_frame_id = names.BODY_FRAME
        out.pose.pose.position.x, out.pose.pose.position.y = state[0], state[1]
        qx, qy, qz, qw = quaternion_from_yaw(state[2])
        o = out.pose.pose.orientation
        o.x, o.y, o.z, o.w = qx, qy, qz, qw
        out.twist.twist.linear.x, out.twist.twist.linear.y = state[3], state[4]
        out.twist.twist.angular.z = state[5]
        self.pub.publish(out)


def main(args=None):
    """Run the driver until shutdown."""
    # Tiny tensors only: one thread, so this process never competes with the learner.
    torch.set_num_threads(1)
    try:
        rclpy.init(args=args)
        try:
            rclpy.spin(RacecarDriverNode())
        finally:
            rclpy.try_shutdown()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == '__main__':
    main()
