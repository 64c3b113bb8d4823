# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Panda's hardware adapter, hosted by the generic environment node.

Every franka_ros2 name comes from a profile (``adapter.profile``, see
``config/franka_profiles.yaml``: ``fr3_jazzy``, ``sim``, ``multipanda``).

In: the current TCP pose (``current_pose``, PoseStamped, best effort depth 1 as the state
broadcaster publishes it), the gripper's joint states (each finger width / 2), the camera
image (``camera/color/image_raw``, preprocessed by ``vision.preprocess``: the pixels the
policy saw in simulation) and the cube pose from the ArUco node (``cube_pose``) -> the
task's ``PandaMeasurement``. The tip velocity is a least-squares fit over the last 10 poses.

Out: the equilibrium pose (PoseStamped, the fixed home orientation) from the task's own
``next_target`` (workspace clip, lag limit), published every control step; the gripper
through franka_msgs actions: ``Grasp`` (width 0, epsilon inner 0.005 / outer 0.08, so any
object up to 8 cm counts) while the action's third component is > 0, ``Move`` to 0.08 m
otherwise, sent when the state changes. ``stop()``: the equilibrium goes to the measured
tip (the arm holds still where it is), the gripper is left as it is (a held cube stays held).

Faults end the episode through the measurement (``PandaMeasurement.fault``), each with its
reason: ``bad_image`` (wrong encoding or size), ``cube_lost`` (no marker for
``cube_lost_s``), ``gripper_failed`` (a goal rejected, aborted or unsuccessful),
``controller_not_following`` (the tip stays farther than ``max_lag + follow_tolerance``
from the equilibrium for ``follow_timeout_s``). A lost camera or arm shows as stale data
(the env node's ``stale_state``, naming the stalest topic).

Bring-up: before the first episode the adapter moves the equilibrium ``bring_up_offset`` up
and refuses to start episodes until the measured tip has followed (franka_ros2 jazzy's
stock example controller ignores equilibrium poses: a user learns it here, not mid-episode).
Reset: error recovery (action or service, per profile), gripper open, the equilibrium back
home at ``home_speed``; once the tip is home, the optional ``reset_service`` (``sim/reset`` in
simulation: the simulated operator puts the cube back), then wait until the cube rests on the
table in view (on the robot a person puts it back; ``require_operator_ack`` of the env node
adds a confirmation). An abort or e-stop cancels a running reset (``cancel_reset``).
"""

import collections
import time
from typing import Optional

from geometry_msgs.msg import PoseStamped
import numpy as np
from panda_rl_env import vision
from panda_rl_env.franka_profile import load_profile
from panda_rl_env.task import MEASUREMENT_DIM, PandaMeasurement, SLICES
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.action import ActionClient
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rl_core import ros_qos
from rl_core.hardware import HardwareAdapter, ResetFuture
from sensor_msgs.msg import Image, JointState
from std_srvs.srv import Trigger
import torch

#: The home orientation as xyzw (pi about x: the gripper points down).
HOME_QUAT_XYZW = (1.0, 0.0, 0.0, 0.0)
OPEN_WIDTH = 0.08


def least_squares_velocity(samples) -> np.ndarray:
    """Velocity (3,) of a line fitted through (t, xyz) samples; zero with fewer than 2."""
    if len(samples) < 2:
        return np.zeros(3)
    t = np.array([s[0] for s in samples])
    p = np.array([s[1] for s in samples])
    t = t - t.mean()
    denom = float((t * t).sum())
    if denom <= 0.0:
        return np.zeros(3)
    return (t[:, None] * (p - p.mean(0))).sum(0) / denom


class PandaAdapter(HardwareAdapter):
    """franka_ros2 + camera + ArUco in, equilibrium poses and gripper actions out."""

    def configure(self, node, task, prefix: str) -> None:
        """Declare ``<prefix>.*`` parameters, create the topics and action clients."""
        super().configure(node, task, prefix)
        from franka_msgs.action import Grasp, Homing, Move

        def param(name, default, text, low=None, high=None):
            kw = {}
            if low is not None:
                kw['floating_point_range'] = [FloatingPointRange(from_value=low, to_value=high)]
            return node.declare_parameter(f'{prefix}.{name}', default, ParameterDescriptor(
                description=text, read_only=True, **kw)).value
        self.profile = load_profile(param('profile', 'fr3_jazzy', 'franka_ros2 flavour '
                                          '(config/franka_profiles.yaml): fr3_jazzy, sim, '
                                          'multipanda.'))
        self.image_topic = param('image_topic', 'camera/color/image_raw', 'Camera image.')
        self.cube_topic = param('cube_topic', 'cube_pose', 'Cube pose from the ArUco node.')
        self.image_size = tuple(param('image_size', [640, 480], 'Expected camera frame size '
                                      '[width, height] (px).'))
        self.cube_fresh_s = param('cube_fresh_s', 0.3, 'A cube pose younger than this counts '
                                  'as seen (s).', 0.01, 10.0)
        self.cube_lost_s = param('cube_lost_s', 1.5, 'Abort when no marker was seen for this '
                                 'long during an episode (s).', 0.05, 60.0)
        self.follow_tolerance = param('follow_tolerance', 0.02, 'Tip-to-equilibrium distance '
                                      'beyond the task max_lag that counts as not following '
                                      '(m).', 0.001, 0.5)
        self.follow_timeout_s = param('follow_timeout_s', 1.0, 'Abort when the tip does not '
                                      'follow for this long (s).', 0.05, 60.0)
        self.bring_up_offset = param('bring_up_offset', 0.01, 'Bring-up check: equilibrium '
                                     'offset up (m).', 0.002, 0.05)
        self.bring_up_timeout_s = param('bring_up_timeout_s', 3.0, 'Bring-up check: time for '
                                        'the tip to follow (s).', 0.1, 60.0)
        self.grasp_force = param('grasp_force', 20.0, 'Grasp force (N).', 1.0, 70.0)
        self.gripper_speed = param('gripper_speed', 0.1, 'Gripper speed (m/s).', 0.01, 0.2)
        self.home_speed = param('home_speed', 0.1, 'Speed of the equilibrium back home in a '
                                'reset (m/s).', 0.01, 0.5)
        self.home_tolerance = param('home_tolerance', 0.01, 'Reset done when the tip is this '
                                    'close to home (m).', 0.001, 0.1)
        self.cube_rest_z = param('cube_rest_z', 0.05, 'Reset waits for the cube centre below '
                                 'this height (m: on the table).', 0.0, 0.5)
        self.reset_service = param('reset_service', 'sim/reset', 'Trigger service putting the '
                                   'cube back (empty on hardware: a person does).')
        p = self.profile
        pose_qos = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                              reliability=ReliabilityPolicy.BEST_EFFORT
                              if p.current_pose_qos == 'best_effort'
                              else ReliabilityPolicy.RELIABLE)
        self.parts = {}
        self.poses = collections.deque(maxlen=10)
        node.create_subscription(PoseStamped, p.current_pose, self.on_pose, pose_qos)
        node.create_subscription(JointState, p.gripper_joint_states,
                                 self._store('gripper'), ros_qos.SENSOR)
        node.create_subscription(Image, self.image_topic, self._store('image'), ros_qos.SENSOR)
        node.create_subscription(PoseStamped, self.cube_topic, self._store('cube'),
                                 ros_qos.SENSOR)
        self.eq_pub = node.create_publisher(PoseStamped, p.equilibrium_pose, ros_qos.COMMAND)
        self.move_client = ActionClient(node, Move, p.gripper_move)
        self.grasp_client = ActionClient(node, Grasp, p.gripper_grasp)
        self.homing_client = ActionClient(node, Homing, p.gripper_homing)
        if p.error_recovery_kind == 'action':
            from franka_msgs.action import ErrorRecovery
            self.recovery = ActionClient(node, ErrorRecovery, p.error_recovery)
        else:
            try:
                from franka_msgs.srv import ErrorRecovery as RecoverySrv
            except ImportError as exc:
                raise ValueError(f'profile {p.name} recovers errors through the service '
                                 'franka_msgs/srv/ErrorRecovery, which this franka_msgs lacks: '
                                 "install the robot stack's own franka_msgs") from exc
            self.recovery = node.create_client(RecoverySrv, p.error_recovery)
        self.reset_client = (node.create_client(Trigger, self.reset_service)
                             if self.reset_service else None)
        self.Grasp, self.Move = Grasp, Move
        self.target = np.array(task.config.home, float)
        self.gripper_closed = False
        self.gripper_seq = 0
        self.fault = ''
        self.in_episode = False
        self.far_since = None
        self.last_cube_seen = None
        self.pixels_cache = (None, None)
        self.stalest = p.current_pose
        self.bring_up = 'pending'
        self.bring_up_timer = None
        self.reset_timer = None
        self.reset_gen = 0
        self.hold = None

    # ------------------------------------------------------------------ inputs
    def now(self) -> float:
        """Node time in seconds."""
        return self.node.get_clock().now().nanoseconds * 1e-9

    def _store(self, name):
        def callback(msg):
            self.parts[name] = (msg, self.now())
        return callback

    def on_pose(self, msg: PoseStamped) -> None:
        """Keep the newest pose and the last 10 for the velocity fit."""
        t = self.now()
        p = msg.pose.position
        self.parts['pose'] = (msg, t)
        self.poses.append((time.monotonic(), np.array([p.x, p.y, p.z])))

    def describe_source(self) -> str:
        """Return the stalest input topic (named in stale-data messages)."""
        return self.node.resolve_topic_name(self.stalest)

    def tip(self) -> Optional[np.ndarray]:
        """Return the newest measured tip position."""
        if 'pose' not in self.parts:
            return None
        p = self.parts['pose'][0].pose.position
        return np.array([p.x, p.y, p.z])

    def pixels(self, msg: Image):
        """Preprocess the newest frame once; a bad frame sets ``fault``."""
        if self.pixels_cache[0] is msg:
            return self.pixels_cache[1]
        s = self.task.config.image_size
        w, h = self.image_size
        if msg.encoding not in vision.ENCODINGS:
            self.fault = (f'bad_image: camera encoding {msg.encoding!r}, expected one of '
                          f'{", ".join(vision.ENCODINGS)}')
            return None
        if (msg.width, msg.height) != (w, h):
            self.fault = (f'bad_image: camera frame {msg.width}x{msg.height}, expected '
                          f'{w}x{h} ({self.prefix}.image_size)')
            return None
        from panda_rl_env.cv_bridge_compat import CvBridge, CvBridgeError
        try:
            frame = CvBridge().imgmsg_to_cv2(msg, 'passthrough')
            px = vision.preprocess(frame, s, msg.encoding)
        except (CvBridgeError, ValueError) as exc:
            self.fault = f'bad_image: {exc}'
            return None
        out = torch.from_numpy(px).reshape(1, 1, s, s)
        self.pixels_cache = (msg, out)
        return out

    def latest(self):
        """Return (PandaMeasurement, the oldest input's arrival time) or None."""
        if not all(k in self.parts for k in ('pose', 'gripper', 'image')):
            return None
        now = self.now()
        pose, t_pose = self.parts['pose']
        js, t_grip = self.parts['gripper']
        img, t_img = self.parts['image']
        times = {self.profile.current_pose: t_pose, self.profile.gripper_joint_states: t_grip,
                 self.image_topic: t_img}
        self.stalest = min(times, key=times.get)
        state = np.zeros(MEASUREMENT_DIM, np.float32)
        tip = self.tip()
        state[SLICES['tip']] = tip
        state[SLICES['tip_vel']] = least_squares_velocity(self.poses)
        fingers = list(js.position)[:2] if len(js.position) >= 2 else [np.nan, np.nan]
        state[SLICES['fingers']] = fingers
        state[SLICES['target']] = self.target
        state[SLICES['gripper_closed']] = float(self.gripper_closed)
        seen = False
        if 'cube' in self.parts:
            cube, t_cube = self.parts['cube']
            c = cube.pose.position
            state[SLICES['cube']] = (c.x, c.y, c.z)
            seen = now - t_cube <= self.cube_fresh_s
            if seen:
                self.last_cube_seen = now
        state[SLICES['cube_seen']] = float(seen)
        pixels = self.pixels(img)
        m = PandaMeasurement(torch.from_numpy(state).unsqueeze(0), pixels)
        if self.in_episode and not self.fault:
            self.check_episode_faults(now, tip)
        m.fault = self.fault
        return m, min(times.values())

    def check_episode_faults(self, now: float, tip: np.ndarray) -> None:
        """Cube out of view too long; controller not following."""
        if self.last_cube_seen is None or now - self.last_cube_seen > self.cube_lost_s:
            since = 'ever' if self.last_cube_seen is None else \
                f'for {now - self.last_cube_seen:.2f} s'
            self.fault = (f'cube_lost: no ArUco marker of the cube seen {since} (limit '
                          f'{self.cube_lost_s:g} s)')
            return
        gap = float(np.linalg.norm(tip - self.target))
        limit = self.task.config.max_lag + self.follow_tolerance
        if gap > limit:
            self.far_since = self.far_since if self.far_since is not None else now
            if now - self.far_since > self.follow_timeout_s:
                self.fault = (f'controller_not_following: the tip stayed {gap:.3f} m from the '
                              f'equilibrium (> {limit:.3f}) for {now - self.far_since:.2f} s')
        else:
            self.far_since = None

    # ------------------------------------------------------------------ outputs
    def publish_equilibrium(self, target) -> None:
        """Send an equilibrium pose (base frame, home orientation)."""
        msg = PoseStamped()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.header.frame_id = f'{self.profile.arm_prefix}_link0'
        msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (float(v) for v in
                                                                         target)
        q = msg.pose.orientation
        q.x, q.y, q.z, q.w = HOME_QUAT_XYZW
        self.eq_pub.publish(msg)

    def command(self, action) -> None:
        """Move the equilibrium (task scaling and clips) and switch the gripper on change."""
        a = torch.as_tensor(action, dtype=torch.float32).reshape(1, -1)
        tip = self.tip()
        if tip is None:
            return
        self.in_episode = True
        self.hold = None
        self.target = self.task.next_target(torch.from_numpy(self.target).float().unsqueeze(0),
                                            torch.from_numpy(tip).float().unsqueeze(0),
                                            a)[0].double().numpy()
        self.publish_equilibrium(self.target)
        closed = bool(self.task.gripper_closed(a)[0])
        if closed != self.gripper_closed:
            self.gripper_closed = closed
            self.send_gripper(closed)

    def send_gripper(self, closed: bool, done=None) -> None:
        """
        Grasp (closed) or open; a rejected or failed goal becomes a fault (or ``done``).

        Only the newest gripper goal counts: the gripper preempts a running goal with a new
        one, and the result of a superseded goal is ignored.
        """
        self.gripper_seq += 1
        seq = self.gripper_seq
        if closed:
            goal = self.Grasp.Goal()
            goal.width, goal.speed, goal.force = 0.0, self.gripper_speed, self.grasp_force
            goal.epsilon.inner, goal.epsilon.outer = 0.005, OPEN_WIDTH
            client, what = self.grasp_client, 'grasp'
        else:
            goal = self.Move.Goal()
            goal.width, goal.speed = OPEN_WIDTH, self.gripper_speed
            client, what = self.move_client, 'move (open)'

        def fail(text):
            if seq != self.gripper_seq:
                return   # superseded by a newer gripper command
            if done is not None:
                done(False, text)
            elif self.in_episode:
                self.fault = f'gripper_failed: {text}'
            self.node.get_logger().error(f'gripper: {text}')

        def on_result(future):
            result = future.result()
            if result is None or not result.result.success:
                fail(f'{what} failed: ' + (result.result.error if result is not None
                                           else str(future.exception())))
            elif done is not None:
                done(True, '')

        def on_goal(future):
            handle = future.result()
            if handle is None or not handle.accepted:
                fail(f'{what} goal rejected by {client._action_name}')
                return
            handle.get_result_async().add_done_callback(on_result)
        if not client.server_is_ready():
            fail(f'{what}: action server {client._action_name} not available')
            return
        client.send_goal_async(goal).add_done_callback(on_goal)

    def cancel_reset(self) -> None:
        """End a running reset's homing motion or bring-up check (abort, e-stop)."""
        self.reset_gen += 1
        if self.reset_timer is not None:
            self.reset_timer.cancel()
            self.node.destroy_timer(self.reset_timer)
            self.reset_timer = None
        if self.bring_up == 'running' and self.bring_up_timer is not None:
            self.bring_up_timer.cancel()
            self.bring_up = 'pending'

    def stop(self) -> None:
        """
        Hold still at the pose where the arm was stopped (the gripper stays as it is).

        The env node calls this every tick between episodes: the first call fixes the hold
        pose (the measured tip, inside the workspace), later calls repeat it; while a reset
        or the bring-up check moves the arm, that motion is what is commanded.
        """
        self.in_episode = False
        if self.reset_timer is not None or self.bring_up == 'running':
            return
        if self.hold is None:
            tip = self.tip()
            if tip is None:
                return
            low = np.array(self.task.config.workspace_low)
            high = np.array(self.task.config.workspace_high)
            self.hold = np.clip(tip, low, high)
        self.target = self.hold.copy()
        self.publish_equilibrium(self.target)

    # ------------------------------------------------------------------ readiness
    def not_ready(self) -> str:
        """Why an episode cannot start: missing inputs, servers, or the bring-up check."""
        names = {'pose': self.profile.current_pose, 'gripper': self.profile.gripper_joint_states,
                 'image': self.image_topic}
        missing = [self.node.resolve_topic_name(t) for k, t in names.items()
                   if k not in self.parts]
        if missing:
            return f'no data yet from {", ".join(missing)}'
        for client in (self.move_client, self.grasp_client):
            if not client.server_is_ready():
                return f'gripper action server {client._action_name} is not available'
        if self.reset_client is not None and not self.reset_client.service_is_ready():
            return f'reset service {self.node.resolve_service_name(self.reset_service)} ' \
                   'is not available'
        if self.bring_up == 'pending':
            self.start_bring_up()
        if self.bring_up != 'ok':
            return self.bring_up if self.bring_up.startswith('bring-up') else \
                'bring-up check running (the arm must follow a small equilibrium offset)'
        return ''

    def start_bring_up(self) -> None:
        """Command a small offset up and watch the measured tip follow it."""
        start = self.tip()
        self.bring_up = 'running'
        goal = start + np.array([0.0, 0.0, self.bring_up_offset])
        began = self.now()

        def tick():
            tip = self.tip()
            moved = float(tip[2] - start[2])
            if moved >= 0.7 * self.bring_up_offset:
                self.bring_up = 'ok'
                self.node.get_logger().info(f'bring-up: the tip followed a '
                                            f'{self.bring_up_offset * 100:.1f} cm equilibrium '
                                            f'offset ({moved * 100:.2f} cm)')
            elif self.now() - began > self.bring_up_timeout_s:
                self.bring_up = (
                    f'bring-up failed: the tip moved {moved * 1000 + 0.0:.1f} mm of a '
                    f'{self.bring_up_offset * 1000:.0f} mm equilibrium offset in '
                    f'{self.bring_up_timeout_s:g} s; is a controller running that follows '
                    f'{self.node.resolve_topic_name(self.profile.equilibrium_pose)}? '
                    "(franka_ros2 jazzy's stock cartesian_impedance_example_controller "
                    'ignores it; see the README)')
                self.node.get_logger().error(self.bring_up)
            else:
                self.publish_equilibrium(goal)
                return
            self.bring_up_timer.cancel()
            self.target = start
            self.hold = start.copy()
            self.publish_equilibrium(start)
        self.publish_equilibrium(goal)
        self.bring_up_timer = self.node.create_timer(0.05, tick)

    # ------------------------------------------------------------------ reset
    def reset(self) -> ResetFuture:
        """Recover errors, open, go home, have the cube put back, wait until it is."""
        future = ResetFuture()
        self.cancel_reset()
        self.hold = None
        self.fault = ''
        self.in_episode = False
        self.far_since = None
        self.last_cube_seen = None
        steps = []

        def fail(text):
            future.set_result(False, text)

        gen = self.reset_gen

        def next_step(ok=True, text=''):
            if gen != self.reset_gen or future.done():
                return   # cancelled (abort, e-stop) or superseded by a newer reset
            if not ok:
                fail(text)
            elif steps:
                steps.pop(0)()

        def recover():
            if self.profile.error_recovery_kind == 'action':
                if not self.recovery.server_is_ready():
                    fail(f'error recovery server {self.recovery._action_name} not available')
                    return
                from franka_msgs.action import ErrorRecovery

                def on_goal(f):
                    handle = f.result()
                    if handle is None or not handle.accepted:
                        next_step(False, 'error recovery goal rejected')
                        return
                    handle.get_result_async().add_done_callback(lambda _: next_step())
                self.recovery.send_goal_async(ErrorRecovery.Goal()).add_done_callback(on_goal)
            else:
                if not self.recovery.service_is_ready():
                    fail(f'error recovery service {self.recovery.srv_name} not available')
                    return
                self.recovery.call_async(self.recovery.srv_type.Request()).add_done_callback(
                    lambda _: next_step())

        def open_gripper():
            self.gripper_closed = False
            self.send_gripper(False, done=lambda ok, text: next_step(ok, f'gripper: {text}'))

        def go_home():
            home = np.array(self.task.config.home)
            start = self.tip() if self.tip() is not None else home
            dist = float(np.linalg.norm(home - start))
            duration = max(dist / self.home_speed, 1e-3)
            began = self.now()
            asked = [False]

            def cube_put_back(call):
                result = call.result()
                if result is None or not result.success:
                    next_step(False, f'reset service {self.reset_service} failed: '
                              f'{result.message if result is not None else call.exception()}')

            def tick():
                if gen != self.reset_gen or future.done():
                    return
                frac = min(1.0, (self.now() - began) / duration)
                self.target = start + frac * (home - start)
                self.publish_equilibrium(self.target)
                tip = self.tip()
                if frac < 1.0 or tip is None or np.linalg.norm(tip - home) > self.home_tolerance:
                    return
                # home: now the cube goes back on the table (a person; sim/reset in sim)
                if self.reset_client is not None and not asked[0]:
                    asked[0] = True
                    self.reset_client.call_async(Trigger.Request()).add_done_callback(
                        cube_put_back)
                    return
                cube_ok = ('cube' in self.parts
                           and self.now() - self.parts['cube'][1] <= self.cube_fresh_s
                           and self.parts['cube'][0].pose.position.z <= self.cube_rest_z)
                if cube_ok:
                    self.cancel_reset()
                    self.hold = home.copy()
                    self.last_cube_seen = self.now()
                    future.set_result(True, 'home, gripper open, cube on the table')
            self.reset_timer = self.node.create_timer(1.0 / self.task.control_hz, tick)

        steps.extend([open_gripper, go_home])
        recover()
        return future

    def cleanup(self) -> None:
        """Cancel the timers."""
        if self.bring_up_timer is not None:
            self.bring_up_timer.cancel()
        self.cancel_reset()
