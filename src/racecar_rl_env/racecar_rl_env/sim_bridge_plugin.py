# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Race-car plug-in of the sim bridge: the topics of a mocap system and the car's board.

Publishes ``mocap/car/pose`` (geometry_msgs/PoseStamped, frame ``world``, best effort as a
mocap system publishes it: ``rl_core.ros_qos.SENSOR``) at the physics rate, accepts
``car/drive_command`` (rl_interfaces/DriveCommand; ``brake`` brakes actively to rest) and
serves ``sim/reset`` (std_srvs/Trigger). Physics is ``racecar_rl_env.sim_backend``: the car
of a named variant (default ``real``: the shifted car of the sim-to-sim experiment), with
the task's own action calibration, start poses and actuation latency, so bridge and task
cannot disagree.

Like a real car's board, the simulated one has its own command timeout
(``<name>.command_timeout_s``, default two control periods): when no fresh drive command
arrived within it (the driver died, or nothing was ever sent) it brakes to rest, and says
so once in the log.
"""

import math

from geometry_msgs.msg import PoseStamped
from racecar_rl_env import racecar_constants as names
from racecar_rl_env.sim_backend import RacecarSimBackend
from racecar_rl_env.state_estimator import quaternion_from_yaw
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rl_core import ros_qos
from rl_interfaces.msg import DriveCommand
from std_srvs.srv import Trigger

DEFAULT_COMMAND_TIMEOUT_S = 2.0 / 30.0  # two periods of the car's 30 Hz control rate


class RacecarBridge:
    """configure / activate / step / publish / deactivate / cleanup, as bridge plug-ins do."""

    def configure(self, node, name: str, task):
        """Declare this plug-in's parameters under ``name`` and build the backend."""
        def param(key, default, text, **kw):
            return node.declare_parameter(f'{name}.{key}', default,
                                          ParameterDescriptor(description=text,
                                                              read_only=True, **kw)).value
        self.node = node
        variant = param('variant', 'real', "Car variant: 'real' (the shifted car), 'sim', "
                        "'pacejka' or 'nominal' (racecar_rl_env.variants).")
        overrides = param('param_overrides', '', 'JSON object shifting further car '
                          'parameters, e.g. {"D_f": 0.3}.')
        seed = param('seed', 0, 'Seed of the start-pose noise.')
        self.command_timeout_s = param(
            'command_timeout_s', DEFAULT_COMMAND_TIMEOUT_S,
            "The board's own timeout: brake to rest when no drive command arrived within "
            'this time (s).',
            floating_point_range=[FloatingPointRange(from_value=0.001, to_value=10.0)])
        self.inject_nan = False
        self.backend = RacecarSimBackend(task, variant, overrides, seed)
        self.last_command_time = None  # simulation time (s) of the last accepted command
        self.braking_on_timeout = False
        node.get_logger().info(
            f'race car: variant {variant} ({self.backend.model}, parameters '
            f'overrides {self.backend.overrides}), command delay '
            f'{self.backend.command_delay_s:.3f} s from the task, command timeout '
            f'{self.command_timeout_s:.3f} s')

    def activate(self):
        """Create the car's topics and the reset service."""
        node = self.node
        self.pose_pub = node.create_publisher(PoseStamped, names.MOCAP_POSE_TOPIC,
                                              ros_qos.SENSOR)
        node.create_subscription(DriveCommand, names.DRIVE_COMMAND_TOPIC, self.on_command,
                                 ros_qos.COMMAND)
        node.create_service(Trigger, names.SIM_RESET_SERVICE, self.on_reset)

    def on_command(self, msg: DriveCommand):
        """Forward a drive command (or a brake) to the simulated car."""
        if not msg.brake and not (math.isfinite(msg.steering_angle)
                                  and math.isfinite(msg.throttle)):
            self.node.get_logger().warn(
                f'refusing a non-finite drive command (steering_angle={msg.steering_angle}, '
                f'throttle={msg.throttle})', throttle_duration_sec=1.0)
            return
        if self.braking_on_timeout:
            self.node.get_logger().info('drive commands resumed')
            self.braking_on_timeout = False
        self.last_command_time = self.backend.time
        self.backend.set_command(msg.steering_angle, msg.throttle, brake=msg.brake)

    def on_reset(self, _request, response):
        """Place the car at rest at a start pose of the task."""
        self.backend.reset()
        if self.braking_on_timeout:
            self.backend.brake()  # still no commands: the board keeps braking
        response.success, response.message = True, 'car placed at a start pose'
        return response

    def check_command_timeout(self):
        """Brake (once per silence) when no fresh command arrived within the timeout."""
        if self.braking_on_timeout:
            return
        if self.last_command_time is None:
            why = 'no drive command received yet'
        else:
            silent = self.backend.time - self.last_command_time
            if silent <= self.command_timeout_s:
                return
            why = f'no drive command for {silent:.2f} s'
        self.braking_on_timeout = True
        self.backend.brake()
        self.node.get_logger().warn(f'race car board: {why}: braking')

    def step(self, dt: float):
        """Advance the physics by ``dt`` seconds (braking first when commands stopped)."""
        self.check_command_timeout()
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
        """Brake the car to rest."""
        self.backend.brake()

    def cleanup(self):
        """Nothing to release."""
