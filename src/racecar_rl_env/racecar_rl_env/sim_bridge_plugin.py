# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Race-car plug-in of the sim bridge: the topics of a mocap system and the car's board.

Publishes ``mocap/car/pose`` (geometry_msgs/PoseStamped, frame ``world``) at the physics
rate, accepts ``car/drive_command`` (rl_interfaces/DriveCommand) and serves ``sim/reset``
(std_srvs/Trigger). Physics is ``racecar_rl_env.sim_backend``: the car of a named variant
(default ``real``: the shifted car of the sim-to-sim experiment), with the task's own
action calibration, start poses and actuation latency, so bridge and task cannot disagree.
"""

from geometry_msgs.msg import PoseStamped
from racecar_rl_env import racecar_constants as names
from racecar_rl_env.sim_backend import RacecarSimBackend
from racecar_rl_env.state_estimator import quaternion_from_yaw
from rcl_interfaces.msg import ParameterDescriptor
from rl_interfaces.msg import DriveCommand
from std_srvs.srv import Trigger


class RacecarBridge:
    """configure / activate / step / publish / deactivate / cleanup, as bridge plug-ins do."""

    def configure(self, node, name: str, task):
        """Declare this plug-in's parameters under ``name`` and build the backend."""
        def param(key, default, text):
            return node.declare_parameter(f'{name}.{key}', default,
                                          ParameterDescriptor(description=text,
                                                              read_only=True)).value
        self.node = node
        variant = param('variant', 'real', "Car variant: 'real' (the shifted car), 'sim', "
                        "'pacejka' or 'nominal' (racecar_rl_env.variants).")
        overrides = param('param_overrides', '', 'JSON object shifting further car '
                          'parameters, e.g. {"D_f": 0.3}.')
        seed = param('seed', 0, 'Seed of the start-pose noise.')
        self.inject_nan = False
        self.backend = RacecarSimBackend(task, variant, overrides, seed)
        node.get_logger().info(
            f'race car: variant {variant} ({self.backend.model}, parameters '
            f'overrides {self.backend.overrides}), command delay '
            f'{self.backend.command_delay_s:.3f} s from the task')

    def activate(self):
        """Create the car's topics and the reset service."""
        node = self.node
        self.pose_pub = node.create_publisher(PoseStamped, names.MOCAP_POSE_TOPIC, 10)
        node.create_subscription(DriveCommand, names.DRIVE_COMMAND_TOPIC, self.on_command, 10)
        node.create_service(Trigger, names.SIM_RESET_SERVICE, self.on_reset)

    def on_command(self, msg: DriveCommand):
        """Forward a drive command to the simulated car."""
        self.backend.set_command(msg.steering_angle, msg.throttle)

    def on_reset(self, _request, response):
        """Place the car at rest at a start pose of the task."""
        self.backend.reset()
        response.success, response.message = True, 'car placed at a start pose'
        return response

    def step(self, dt: float):
        """Advance the physics by ``dt`` seconds."""
        self.backend.advance(dt)

    def publish(self, stamp):
        """Publish the pose as a mocap system would."""
        x, y, yaw = self.backend.pose()
        if self.inject_nan:
            x = float('nan')
        msg = PoseStamped()
        msg.header.stamp = stamp
        msg.header.frame_id = names.WORLD_FRAME
        msg.pose.position.x, msg.pose.position.y = x, y
        o = msg.pose.orientation
        o.x, o.y, o.z, o.w = quaternion_from_yaw(yaw)
        self.pose_pub.publish(msg)

    def deactivate(self):
        """Stop the car."""
        self.backend.set_command(0.0, 0.0)

    def cleanup(self):
        """Nothing to release."""
