# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Race-car driver: mocap pose in, state estimate out; commands relayed and guarded.

- ``mocap/car/pose`` (geometry_msgs/PoseStamped as a mocap system publishes it, subscribed
  with ``SENSOR`` QoS) -> ``car/odom`` (nav_msgs/Odometry: pose, body-frame vx/vy and yaw
  rate, ``SENSOR`` QoS, stamped with the mocap stamp). A pose with a non-finite value, an
  unset stamp, a degenerate quaternion or a stamp not later than the previous one is
  refused (a throttled log and a WARN on ``/diagnostics`` naming the problem) and not
  forwarded: the env node then ends the episode on stale data. If the mocap clock jumped
  back for good (stamps refused for ``driver.stamp_restart_s``), the estimate restarts.
- ``car/command`` (rl_interfaces/DriveCommand from the env node's adapter) ->
  ``car/drive_command`` (to the car's board, ``COMMAND`` QoS). A fresh command is forwarded
  at once (no added latency) and repeated so that the board gets at least
  ``driver.command_rate_hz`` messages per second; when none arrived within
  ``driver.command_timeout_s`` (two control periods by default: the env node died or hangs)
  the driver sends an active brake (``brake: true``) at that rate instead, logs once why
  it started braking, and reports it on ``/diagnostics``. Non-finite commands are refused
  (they never count as fresh).
"""

import math

from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from racecar_rl_env import racecar_constants as names
from racecar_rl_env.state_estimator import (pose_problem, PoseVelocityEstimator,
                                            quaternion_from_yaw, yaw_from_quaternion)
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.node import Node
from rl_core import ros_executor, ros_qos
from rl_core.ros_diagnostics import Health
from rl_interfaces.msg import DriveCommand
import torch

CONTROL_HZ = 30.0  # the parking task's control rate: the default relay rate
# Keep a mocap problem on /diagnostics this long after the last refused pose, so a flapping
# stream does not flood /diagnostics with level changes.
PROBLEM_HOLD_S = 1.0
LOG_PERIOD_S = 1.0  # a refused-pose log per kind of problem at most this often


def stamp_seconds(stamp) -> float:
    """Return a builtin_interfaces/Time as seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


class RacecarDriverNode(Node):
    """Odometry from mocap poses; drive commands relayed to the board, brake on silence."""

    def __init__(self):
        """Declare parameters, topics, the relay timer and the command watchdog."""
        super().__init__('racecar_driver')

        def param(name, default, text, low, high):
            return self.declare_parameter(name, default, ParameterDescriptor(
                description=text, read_only=True,
                floating_point_range=[FloatingPointRange(from_value=low, to_value=high)])).value
        smoothing = param('driver.velocity_smoothing', 0.5,
                          'Weight of the newest finite-difference velocity sample.', 0.01, 1.0)
        gap = param('driver.max_pose_gap_s', 0.1,
                    'A pose gap longer than this (s) restarts the velocity estimate.',
                    0.001, 10.0)
        self.rate_hz = param('driver.command_rate_hz', CONTROL_HZ,
                             'Rate (Hz) at which drive commands (or brakes) go to the board; '
                             "the task's control rate.", 1.0, 1000.0)
        self.timeout_s = param('driver.command_timeout_s', 2.0 / CONTROL_HZ,
                               'Brake when no command arrived on car/command within this '
                               'time (s); two control periods.', 0.001, 10.0)
        self.stamp_restart_s = param('driver.stamp_restart_s', 1.0,
                                     'When mocap stamps have been refused as not increasing '
                                     'for this long (s), accept the new time base and '
                                     'restart the velocity estimate (mocap clock reset).',
                                     0.01, 600.0)
        self.estimator = PoseVelocityEstimator(smoothing, gap)
        self.last_stamp = None           # stamp (s) of the last pose used
        self.not_increasing_since = None  # node time (s) since stamps are refused as old
        self.problem, self.problem_time = '', None
        self.poses_used = self.poses_refused = 0
        self.logged = {}                 # kind of problem -> node time (s) of its last log
        self.odom_pub = self.create_publisher(Odometry, names.ODOM_TOPIC, ros_qos.SENSOR)
        self.create_subscription(PoseStamped, names.MOCAP_POSE_TOPIC, self.on_pose,
                                 ros_qos.SENSOR)

        self.command = None         # newest valid DriveCommand
        self.command_time = None    # node time (s) it arrived
        self.last_sent = None       # node time (s) of the last message to the board
        self.braking_since = None   # node time (s) braking started (None: relaying)
        self.why_braking = ''
        self.relayed = self.brakes = self.refused_commands = 0
        self.drive_pub = self.create_publisher(DriveCommand, names.DRIVE_COMMAND_TOPIC,
                                               ros_qos.COMMAND)
        self.create_subscription(DriveCommand, names.COMMAND_TOPIC, self.on_command,
                                 ros_qos.COMMAND)
        self.health = Health(self, hardware_id='racecar')
        self.create_timer(1.0 / self.rate_hz, self.on_rate)
        # Fires ``command_timeout_s`` after the last command (reset by every command), so
        # braking starts on time, not at the next relay tick.
        self.watchdog = self.create_timer(self.timeout_s, self.on_watchdog)
        self.get_logger().info(
            f'relaying {self.resolve_topic_name(names.COMMAND_TOPIC)} -> '
            f'{self.resolve_topic_name(names.DRIVE_COMMAND_TOPIC)} at {self.rate_hz:g} Hz, '
            f'braking after {self.timeout_s:.3f} s without a command')
        self.start_braking('no command on '
                           f'{self.resolve_topic_name(names.COMMAND_TOPIC)} yet')

    def now(self) -> float:
        """Node time in seconds."""
        return self.get_clock().now().nanoseconds * 1e-9

    # ------------------------------------------------------------------ mocap -> odometry
    def on_pose(self, msg: PoseStamped):
        """Check the pose, estimate velocities and publish odometry."""
        p, q = msg.pose.position, msg.pose.orientation
        t = stamp_seconds(msg.header.stamp)
        problem = pose_problem(t, (p.x, p.y, p.z), (q.x, q.y, q.z, q.w), self.last_stamp)
        if problem.startswith('stamp not increasing'):
            now = self.now()
            if self.not_increasing_since is None:
                self.not_increasing_since = now
            elif now - self.not_increasing_since > self.stamp_restart_s:
                self.get_logger().warn(
                    f'mocap stamps went back for {now - self.not_increasing_since:.2f} s '
                    f'(newest {t:.6f}, last used {self.last_stamp:.6f}): accepting the new '
                    'time base and restarting the velocity estimate')
                self.estimator = PoseVelocityEstimator(self.estimator.smoothing,
                                                       self.estimator.max_gap_s)
                problem = ''
        if problem:
            self.refuse_pose(problem)
            return
        self.not_increasing_since = None
        self.last_stamp = t
        self.poses_used += 1
        state = self.estimator.update(t, p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))
        out = Odometry()
        out.header.stamp = msg.header.stamp
        out.header.frame_id = names.WORLD_FRAME
        out.child_frame_id = names.BODY_FRAME
        out.pose.pose.position.x, out.pose.pose.position.y = state[0], state[1]
        o = out.pose.pose.orientation
        o.x, o.y, o.z, o.w = quaternion_from_yaw(state[2])
        out.twist.twist.linear.x, out.twist.twist.linear.y = state[3], state[4]
        out.twist.twist.angular.z = state[5]
        self.odom_pub.publish(out)

    def refuse_pose(self, problem: str):
        """Log (throttled) and report a refused mocap pose; nothing is forwarded."""
        self.poses_refused += 1
        now = self.now()
        self.problem, self.problem_time = problem, now
        # Throttled per kind of problem, so a second kind is not hidden behind the first.
        kind = problem.split(':')[0]
        if now - self.logged.get(kind, -math.inf) >= LOG_PERIOD_S:
            self.logged[kind] = now
            self.get_logger().warn(
                f'refusing mocap pose from {self.resolve_topic_name(names.MOCAP_POSE_TOPIC)}'
                f': {problem}; not forwarded ({self.poses_refused} refused so far)')
        self.update_health()

    # ------------------------------------------------------------------ command relay
    def on_command(self, msg: DriveCommand):
        """Take a fresh command and forward it at once."""
        if not msg.brake and not (math.isfinite(msg.steering_angle)
                                  and math.isfinite(msg.throttle)):
            self.refused_commands += 1
            self.get_logger().warn(
                f'refusing a non-finite command (steering_angle={msg.steering_angle}, '
                f'throttle={msg.throttle}); it does not count as fresh',
                throttle_duration_sec=1.0)
            return
        now = self.now()
        self.command, self.command_time = msg, now
        self.watchdog.reset()
        if self.braking_since is not None:
            self.get_logger().info(f'commands resumed after {now - self.braking_since:.2f} s '
                                   'of braking')
            self.braking_since, self.why_braking = None, ''
            self.update_health()
        self.send(now)

    def fresh(self, now: float) -> bool:
        """Return whether the newest command is recent enough to be relayed."""
        return self.command_time is not None and now - self.command_time <= self.timeout_s

    def on_watchdog(self):
        """Start braking when the newest command is too old (fired after the timeout)."""
        now = self.now()
        if self.braking_since is None and not self.fresh(now):
            self.start_braking(f'no command for {now - self.command_time:.2f} s')
            self.send(now)

    def on_rate(self):
        """Repeat the fresh command, or the brake, at the fixed rate."""
        now = self.now()
        if self.braking_since is None and not self.fresh(now):
            self.start_braking(f'no command for {now - self.command_time:.2f} s')
        # Commands are forwarded on arrival; a tick repeats the newest (or the brake) only
        # when nothing went out for most of a period, so the board hears from the driver at
        # least at the fixed rate without doubling a 30 Hz command stream.
        if self.last_sent is None or now - self.last_sent > 0.9 / self.rate_hz:
            self.send(now)
        if self.problem and now - self.problem_time > PROBLEM_HOLD_S:
            self.problem = ''
        self.update_health()

    def start_braking(self, why: str):
        """Switch to braking; log once and report why."""
        self.braking_since, self.why_braking = self.now(), why
        self.get_logger().warn(f'{why}: braking')
        self.update_health()

    def send(self, now: float):
        """Send the held command, or an active brake, to the board."""
        out = DriveCommand()
        out.header.stamp = self.get_clock().now().to_msg()
        out.header.frame_id = names.BODY_FRAME
        if self.braking_since is None:
            out.steering_angle = self.command.steering_angle
            out.throttle = self.command.throttle
            out.brake = self.command.brake
            self.relayed += 1
        else:
            out.brake = True
            self.brakes += 1
        self.drive_pub.publish(out)
        self.last_sent = now

    def update_health(self):
        """Report relay and mocap state on /diagnostics (published on change)."""
        parts = []
        if self.braking_since is not None:
            parts.append(f'braking: {self.why_braking}')
        if self.problem:
            parts.append(f'mocap pose refused: {self.problem}')
        values = {'commands_relayed': self.relayed, 'brakes_sent': self.brakes,
                  'poses_used': self.poses_used, 'poses_refused': self.poses_refused,
                  'commands_refused': self.refused_commands}
        if parts:
            self.health.warn('; '.join(parts), **values)
        else:
            self.health.ok('relaying commands; mocap ok', **values)


def main(args=None):
    """Run the driver until shutdown."""
    # Tiny tensors only: one thread, so this process never competes with the learner.
    torch.set_num_threads(1)
    return ros_executor.run_node(RacecarDriverNode, 'racecar_driver', args=args)


if __name__ == '__main__':
    main()
