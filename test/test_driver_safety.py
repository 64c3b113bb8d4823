# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Race-car driver and simulated board under faults (real DDS, nodes as processes).

The driver relays and guards commands and refuses bad mocap poses; the simulated board
brakes on its own when the driver falls silent.

- relay: commands on ``car/command`` reach ``car/drive_command`` unchanged; when they stop,
  the first BRAKE reaches a listener within three control periods of the last command
  (measured by receive times), never before the two-period timeout; logged once per stop
  with the reason, reported on ``/diagnostics``;
- mocap checks: NaN poses, repeated, older and unset stamps and a zero quaternion are
  refused (log and WARN naming the problem) and never forwarded as odometry; a mocap clock
  that jumped back for good is accepted as a new time base after ``driver.stamp_restart_s``;
- board timeout: the sim bridge's car, driven at > 1 m/s, brakes to rest when the drive
  commands stop.
"""

import math
import os
import threading
import time

from graph_harness import Graph, params_with, wait_for
import pytest

rclpy = pytest.importorskip('rclpy')
msgs = pytest.importorskip('rl_interfaces.msg')

PERIOD = 1.0 / 30.0  # the task's control period, the driver's default relay period


class Probe:
    """Test node: publishes what the env node / a mocap / the driver would, listens."""

    def __init__(self, domain):
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import PoseStamped
        from nav_msgs.msg import Odometry
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from rl_core import ros_qos
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node('driver_probe', context=self.context)
        self.lock = threading.Lock()
        self.drive, self.odometry, self.poses, self.diagnostics = [], [], [], []
        self.command_pub = self.node.create_publisher(msgs.DriveCommand, 'car/command',
                                                      ros_qos.COMMAND)
        self.board_pub = self.node.create_publisher(msgs.DriveCommand, 'car/drive_command',
                                                    ros_qos.COMMAND)
        self.pose_pub = self.node.create_publisher(
            PoseStamped, 'mocap/car/pose',
            QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT))
        self.node.create_subscription(
            msgs.DriveCommand, 'car/drive_command', self.on_drive,
            QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
        self.node.create_subscription(Odometry, 'car/odom', self.on_odom, ros_qos.SENSOR)
        self.node.create_subscription(PoseStamped, 'mocap/car/pose', self.on_pose,
                                      ros_qos.SENSOR)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self.on_diagnostics, 50)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        threading.Thread(target=self.executor.spin, daemon=True).start()

    def on_drive(self, msg):
        with self.lock:
            self.drive.append((time.monotonic(), msg))

    def on_odom(self, msg):
        with self.lock:
            self.odometry.append(msg)

    def on_pose(self, msg):
        with self.lock:
            t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            self.poses.append((t, msg.pose.position.x, msg.pose.position.y))

    def on_diagnostics(self, msg):
        with self.lock:
            for status in msg.status:
                self.diagnostics.append(status)

    def statuses(self, name_part):
        with self.lock:
            return [s for s in self.diagnostics if name_part in s.name]

    def drive_after(self, since):
        with self.lock:
            return [(t, m) for t, m in self.drive if t >= since]

    def command(self, steering, throttle, pub=None):
        msg = msgs.DriveCommand()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.steering_angle, msg.throttle = steering, throttle
        (pub or self.command_pub).publish(msg)
        return time.monotonic()

    def pose(self, stamp_s, x, y=0.0, q=(0.0, 0.0, 0.0, 1.0)):
        from geometry_msgs.msg import PoseStamped
        msg = PoseStamped()
        msg.header.stamp.sec = int(stamp_s)
        msg.header.stamp.nanosec = int(round((stamp_s - int(stamp_s)) * 1e9))
        msg.header.frame_id = 'world'
        msg.pose.position.x, msg.pose.position.y = x, y
        o = msg.pose.orientation
        o.x, o.y, o.z, o.w = q
        self.pose_pub.publish(msg)

    def speed(self, window=0.1):
        """Speed (m/s) from the last ``window`` seconds of mocap stamps and positions."""
        with self.lock:
            poses = list(self.poses[-50:])
        if len(poses) < 2:
            return None
        last = poses[-1]
        first = next((p for p in poses if p[0] >= last[0] - window), poses[0])
        dt = last[0] - first[0]
        return math.hypot(last[1] - first[1], last[2] - first[2]) / dt if dt > 0 else None

    def close(self):
        self.executor.shutdown()
        rclpy.shutdown(context=self.context)


def level(status):
    """Return a DiagnosticStatus level as an int (the message type is a byte)."""
    return ord(status.level) if isinstance(status.level, bytes) else int(status.level)


@pytest.fixture
def domain():
    return int(os.environ['ROS_DOMAIN_ID'])


@pytest.fixture
def driver(tmp_path, domain):
    graph = Graph(tmp_path, params_with({'/**': {'task.checkpoint': ''}}, tmp_path), domain)
    graph.start_all(names={'racecar_driver'})
    probe = Probe(domain)
    try:
        yield probe, graph
    finally:
        probe.close()
        graph.stop()


def test_driver_relays_commands_and_brakes_within_two_periods(driver):
    probe, graph = driver
    # Nothing commands the car yet: the driver brakes from the start.
    wait_for(lambda: probe.drive_after(0.0), 30, what='the driver on car/drive_command')
    assert all(m.brake for _, m in probe.drive_after(0.0))
    wait_for(lambda: probe.command_pub.get_subscription_count() > 0, 10,
             what='the driver to subscribe car/command')
    latencies = []
    for trial in range(3):
        throttle = 0.05 + 0.01 * trial
        start = time.monotonic()
        for _ in range(15):  # 0.5 s of commands at 30 Hz, then silence
            last = probe.command(0.1, throttle)
            time.sleep(PERIOD)
        time.sleep(0.4)
        out = probe.drive_after(start)
        relayed = [(t, m) for t, m in out if not m.brake and t <= last + 0.05]
        assert relayed and all(m.throttle == pytest.approx(throttle) and
                               m.steering_angle == pytest.approx(0.1) for _, m in relayed)
        # At least about one message per period reaches the board while commands flow (15
        # sent, each forwarded at once, plus the 30 Hz repeats: up to ~2 per period).
        assert 8 <= len(relayed) <= 40, len(relayed)
        first_brake = next(t for t, m in out if t > last and m.brake)
        assert not [m for t, m in out if t > first_brake and not m.brake]
        latencies.append(first_brake - last)
        # Braking goes on at the fixed rate.
        brakes = [t for t, m in out if m.brake and t > first_brake]
        assert len(brakes) >= int((out[-1][0] - first_brake) / PERIOD) // 2
    print('last command -> first brake (control periods):',
          [round(x / PERIOD, 2) for x in latencies])
    # Never before the two-period timeout; measured 2.07-2.26 periods at this listener on an
    # idle machine. The upper bound leaves room for a loaded CI machine's delivery jitter.
    assert all(2.0 * PERIOD - 0.01 < x < 0.5 for x in latencies), latencies
    log = graph.log('racecar_driver')
    assert log.count('no command on /car/command yet: braking') == 1
    # Startup + one line per silence (more if the test's own stream stalled under load).
    assert log.count(': braking') >= 4, log
    assert log.count('no command for 0.') >= 3, log
    assert log.count('commands resumed after') >= 3
    messages = [(level(s), s.message) for s in probe.statuses('racecar_driver')]
    assert (0, 'relaying commands; mocap ok') in messages, messages
    assert any(lv == 1 and m.startswith('braking: no command for 0.0') for lv, m in messages)


def test_driver_refuses_bad_mocap_poses_and_forwards_none_of_them(driver):
    probe, graph = driver
    wait_for(lambda: probe.drive_after(0.0), 30, what='the driver on car/drive_command')
    wait_for(lambda: probe.pose_pub.get_subscription_count() > 0, 30,
             what='the driver to subscribe the mocap pose')
    time.sleep(0.5)
    t0 = probe.node.get_clock().now().nanoseconds * 1e-9
    good, bad = [], {}
    for k in range(200):
        stamp, x, q = t0 + 0.01 * k, 1.0 + 0.005 * k, (0.0, 0.0, 0.0, 1.0)
        if k == 50:
            x, bad['non-finite position x=nan'] = math.nan, stamp
        elif k == 80:
            stamp = t0 + 0.01 * 79  # the previous stamp again
            bad['stamp not increasing'] = stamp
        elif k == 110:
            stamp = t0 + 0.01 * k - 0.5
            bad['stamp not increasing: '] = stamp
        elif k == 140:
            q, bad['degenerate orientation: quaternion norm 0.000'] = (0.0, 0.0, 0.0, 0.0), stamp
        elif k == 160:
            stamp, bad['stamp is zero (unset)'] = 0.0, 0.0
        else:
            good.append(round(stamp, 6))
        probe.pose(stamp, x, q=q)
        time.sleep(0.01)
    time.sleep(0.5)
    with probe.lock:
        odometry = list(probe.odometry)
    stamps = [round(o.header.stamp.sec + o.header.stamp.nanosec * 1e-9, 6) for o in odometry]
    # Everything forwarded is a good pose, in order, finite; (nearly) every good pose came.
    assert set(stamps) <= set(good)
    assert stamps == sorted(set(stamps))
    assert all(math.isfinite(o.pose.pose.position.x) and math.isfinite(o.twist.twist.linear.x)
               for o in odometry)
    assert len(stamps) >= 0.9 * len(good), (len(stamps), len(good))
    # The velocity estimate is the mocap's 0.5 m/s (the refused poses did not disturb it).
    assert odometry[-1].twist.twist.linear.x == pytest.approx(0.5, abs=0.05)
    log = graph.log('racecar_driver')
    for problem in ('non-finite position x=nan', 'degenerate orientation: quaternion norm',
                    'stamp is zero (unset)', 'stamp not increasing: '):
        assert f'refusing mocap pose from /mocap/car/pose: {problem}' in log, (problem, log)
    assert 'not forwarded' in log
    warned = [s.message for s in probe.statuses('racecar_driver') if level(s) == 1]
    for problem in ('non-finite position x=nan', 'stamp not increasing',
                    'degenerate orientation', 'stamp is zero'):
        assert any(f'mocap pose refused: {problem}' in m for m in warned), (problem, warned)
    wait_for(lambda: any(kv.key == 'poses_refused' and kv.value == '5'
                         for s in probe.statuses('racecar_driver') for kv in s.values),
             5, what='poses_refused=5 on /diagnostics')

    # The mocap clock restarts 100 s earlier and stays there: refused, then accepted.
    n_before = len(probe.odometry)
    t1 = t0 - 100.0
    for k in range(150):
        probe.pose(t1 + 0.01 * k, 2.0)
        time.sleep(0.01)
    time.sleep(0.3)
    log = graph.log('racecar_driver')
    assert 'accepting the new time base and restarting the velocity estimate' in log, log
    with probe.lock:
        later = [o.header.stamp.sec + o.header.stamp.nanosec * 1e-9
                 for o in probe.odometry[n_before:]]
    assert later and all(t1 - 0.001 <= t < t1 + 1.5 for t in later)


def test_sim_bridge_board_brakes_when_the_driver_is_silent(tmp_path, domain):
    params = params_with({'/**': {'task.checkpoint': ''},
                          'sim_bridge': {'racecar.variant': 'nominal'}}, tmp_path)
    graph = Graph(tmp_path, params, domain)
    graph.start_all(names={'sim_bridge'})
    probe = Probe(domain)
    try:
        wait_for(lambda: len(probe.poses) > 10, 60, what='mocap poses from the sim bridge')
        wait_for(lambda: probe.board_pub.get_subscription_count() > 0, 10,
                 what='the board to subscribe car/drive_command')
        deadline = time.monotonic() + 10
        while (probe.speed() or 0.0) < 1.0:  # drive straight at duty 0.2 (action 0.5)
            assert time.monotonic() < deadline, 'the simulated car did not speed up'
            last = probe.command(0.0, 0.2, pub=probe.board_pub)
            time.sleep(PERIOD)
        speed = probe.speed()

        def at_rest():
            s = probe.speed(window=0.1)
            return s is not None and s < 0.05 and time.monotonic()
        rest = wait_for(at_rest, 5, step=0.01, what='the car to come to rest')
        print(f'sim board: {speed:.2f} m/s -> rest {rest - last:.2f} s after the last '
              'drive command')
        # Zero throttle would coast for ln(speed / 0.05) * 1.06 s > 3.5 s from 1 m/s.
        assert rest - last < 1.0
        wait_for(lambda: 'race car board: no drive command for 0.' in graph.log('sim_bridge'),
                 5, what='the board to log why it brakes')
        assert graph.log('sim_bridge').count(': braking') == 2  # at start and now
    finally:
        probe.close()
        graph.stop()
