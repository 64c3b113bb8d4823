# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Fake race-car hardware: a motion-capture system and the car's board, as real ones behave.

    python test/fake_hardware.py [world|mocap|car] --ros-args -p mocap.rate_hz:=120.0 ...

``world`` (default) runs both roles in one process around one simulated car; ``mocap``
watches a car standing where it was placed (no board); ``car`` is the board alone (nothing
is published as a pose). Importable: ``FakeCarWorld(roles=('mocap', 'car'))`` after
``rclpy.init``.

- **Mocap** (``mocap.*``): geometry_msgs/PoseStamped on ``mocap/car/pose``, frame
  ``world``, BEST_EFFORT (a reliable subscriber never matches, as with real mocap drivers),
  captured on its own thread at ``mocap.rate_hz`` (default 120) and delivered with a random
  delay of up to ``mocap.jitter_s``; stamps are the capture times on the mocap's own clock:
  the ROS clock plus ``mocap.clock_offset_s``. ``mocap.noise_m`` adds position noise.
- **Board** (``car.*``): subscribes ``car/drive_command`` (rl_interfaces/DriveCommand,
  best effort: matches any publisher), integrates ``racecar_rl_env.sim_backend`` (variant
  ``car.variant``, default ``nominal``, with the task's actuation latency), brakes on
  ``brake`` and on its OWN command timeout ``car.command_timeout_s`` (default 0.1 s; logs
  once why). It serves no simulator service: no reset, no clock.
- **Operator**: ``fake/place_car`` (std_msgs/Empty) stands for a person who lifts the car
  (the mocap loses it for ``operator.carry_s``) and puts it down at rest at a start pose of
  the task.
- Status on ``/diagnostics`` (name ``/<node name>``, hardware id ``fake_racecar``, 5 Hz):
  ``commands``, ``brake_commands``, ``timeout_brakes``, ``braking``, ``speed_m_s``,
  ``poses_published``, ``x``, ``y``.
"""

import math
import random
import sys
import threading
import time

from geometry_msgs.msg import PoseStamped
from racecar_rl_env import racecar_constants as names
from racecar_rl_env.sim_backend import RacecarSimBackend
from racecar_rl_env.state_estimator import quaternion_from_yaw
from racecar_rl_env.task import ParkingTask
import rclpy
from rclpy.duration import Duration
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rl_core.ros_diagnostics import Health
from rl_interfaces.msg import DriveCommand
from std_msgs.msg import Empty
import torch

MOCAP_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT,
                       history=HistoryPolicy.KEEP_LAST, durability=DurabilityPolicy.VOLATILE)
BOARD_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT,
                       history=HistoryPolicy.KEEP_LAST, durability=DurabilityPolicy.VOLATILE)
ROLES = {'world': ('mocap', 'car'), 'mocap': ('mocap',), 'car': ('car',)}
NODE_NAMES = {'world': 'fake_car_world', 'mocap': 'fake_mocap', 'car': 'fake_car_board'}


class FakeCarWorld(Node):
    """One simulated car seen by a fake mocap and driven by a fake board."""

    def __init__(self, roles=('mocap', 'car'), node_name: str = 'fake_car_world', **kw):
        """Declare the roles' parameters and start them."""
        super().__init__(node_name, **kw)
        self.roles = tuple(roles)
        p = self.declare_parameter
        self.mocap_rate = p('mocap.rate_hz', 120.0).value
        self.jitter_s = p('mocap.jitter_s', 0.003).value
        self.offset_s = p('mocap.clock_offset_s', 0.0).value
        self.noise_m = p('mocap.noise_m', 0.0).value
        seed = p('seed', 0).value
        variant = p('car.variant', 'nominal').value
        self.timeout_s = p('car.command_timeout_s', 0.1).value
        board_rate = p('car.rate_hz', 100.0).value
        self.carry_s = p('operator.carry_s', 0.3).value
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.car = RacecarSimBackend(ParkingTask(), variant, seed=seed)
        self.origin = time.monotonic()  # wall time of car.time == 0
        self.last_command = None        # monotonic time of the last accepted command
        self.braking_on_timeout = False
        self.hidden_until = 0.0         # mocap loses the car while the operator carries it
        self.stats = {'commands': 0, 'brake_commands': 0, 'timeout_brakes': 0,
                      'poses_published': 0}
        self.health = Health(self, hardware_id='fake_racecar', period_s=0.2)
        self.create_subscription(Empty, 'fake/place_car', self.on_place, 10)
        if 'car' in self.roles:
            self.create_subscription(DriveCommand, names.DRIVE_COMMAND_TOPIC, self.on_command,
                                     BOARD_QOS)
            self.create_timer(1.0 / board_rate, self.board_tick)
        self.create_timer(0.2, self.report)
        self.running = True
        self.mocap_thread = None
        if 'mocap' in self.roles:
            self.pose_pub = self.create_publisher(PoseStamped, names.MOCAP_POSE_TOPIC,
                                                  MOCAP_QOS)
            self.mocap_thread = threading.Thread(target=self.mocap_loop, daemon=True)
            self.mocap_thread.start()
        self.get_logger().info(
            f'fake hardware {"+".join(self.roles)}: car {variant}, board timeout '
            f'{self.timeout_s:.3f} s, mocap {self.mocap_rate:g} Hz, jitter {self.jitter_s} s, '
            f'clock offset {self.offset_s} s')

    # ------------------------------------------------------------------ the car
    def advance_to_now(self) -> float:
        """Integrate the car up to the present (call with the lock held); return now."""
        now = time.monotonic()
        dt = now - self.origin - self.car.time
        if dt > 0:
            self.car.advance(dt)
        return now

    def on_place(self, _msg: Empty):
        """Lift the car (as the operator does) and put it down at rest at a start pose."""
        with self.lock:
            now = self.advance_to_now()
            self.hidden_until = now + self.carry_s
            self.car.reset()
            if self.braking_on_timeout or 'car' not in self.roles:
                self.car.brake()
        self.get_logger().info(f'operator placed the car at {self.car.pose()}')

    # ------------------------------------------------------------------ the board
    def on_command(self, msg: DriveCommand):
        """Execute a drive command; a brake brakes actively."""
        if not msg.brake and not (math.isfinite(msg.steering_angle)
                                  and math.isfinite(msg.throttle)):
            self.get_logger().warn('board: refusing a non-finite drive command',
                                   throttle_duration_sec=1.0)
            return
        with self.lock:
            now = self.advance_to_now()
            self.last_command = now
            self.car.set_command(msg.steering_angle, msg.throttle, brake=msg.brake)
            self.stats['commands'] += 1
            self.stats['brake_commands'] += int(msg.brake)
            resumed = self.braking_on_timeout
            self.braking_on_timeout = False
        if resumed:
            self.get_logger().info('board: drive commands resumed')

    def board_tick(self):
        """Integrate the car; brake on the board's own command timeout."""
        why = ''
        with self.lock:
            now = self.advance_to_now()
            if not self.braking_on_timeout:
                if self.last_command is None:
                    why = 'no drive command received yet'
                elif now - self.last_command > self.timeout_s:
                    why = f'no drive command for {now - self.last_command:.2f} s'
                if why:
                    self.braking_on_timeout = True
                    self.stats['timeout_brakes'] += 1
                    self.car.brake()
        if why:
            self.get_logger().warn(f'board: {why}: braking')

    # ------------------------------------------------------------------ the mocap
    def mocap_loop(self):
        """Capture at the mocap rate on its own clock; deliver with a random delay."""
        period = 1.0 / self.mocap_rate
        next_capture = time.monotonic()
        while self.running:
            next_capture += period
            delay = next_capture - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1.0:
                next_capture = time.monotonic()  # far behind (suspended): catch up
            with self.lock:
                now = self.advance_to_now()
                x, y, yaw = self.car.pose()
                hidden = now < self.hidden_until
            if hidden:
                continue
            stamp = self.get_clock().now() + Duration(nanoseconds=int(self.offset_s * 1e9))
            if self.noise_m > 0:
                x += self.random.gauss(0.0, self.noise_m)
                y += self.random.gauss(0.0, self.noise_m)
            msg = PoseStamped()
            msg.header.stamp = stamp.to_msg()
            msg.header.frame_id = names.WORLD_FRAME
            msg.pose.position.x, msg.pose.position.y = x, y
            o = msg.pose.orientation
            o.x, o.y, o.z, o.w = quaternion_from_yaw(yaw)
            if self.jitter_s > 0:
                time.sleep(self.random.uniform(0.0, min(self.jitter_s, 0.9 * period)))
            if not self.running:
                return
            try:
                self.pose_pub.publish(msg)
            except Exception:  # noqa: BLE001 - the context is shutting down
                return
            self.stats['poses_published'] += 1

    # ------------------------------------------------------------------ status
    def report(self):
        """Publish the counters and the car's state on /diagnostics."""
        with self.lock:
            self.advance_to_now()
            speed = self.car.speed()
            x, y, _ = self.car.pose()
            braking = self.car.braking
            on_timeout = self.braking_on_timeout
        values = dict(self.stats, speed_m_s=f'{speed:.4f}', braking=braking,
                      x=f'{x:.4f}', y=f'{y:.4f}')
        if on_timeout:
            self.health.warn('board braking on its command timeout', **values)
        else:
            self.health.ok('driving' if 'car' in self.roles else 'tracking', **values)

    def close(self):
        """Stop the mocap thread."""
        self.running = False
        if self.mocap_thread is not None:
            self.mocap_thread.join(timeout=1.0)


def main(argv=None):
    """Run one role (``world``, ``mocap`` or ``car``) until Ctrl-C."""
    argv = list(sys.argv if argv is None else argv)
    role = argv[1] if len(argv) > 1 and argv[1] in ROLES else 'world'
    torch.set_num_threads(1)
    node = None
    try:
        rclpy.init(args=argv)
        node = FakeCarWorld(ROLES[role], NODE_NAMES[role])
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
