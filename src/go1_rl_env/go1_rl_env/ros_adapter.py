# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Go1's hardware adapter, hosted by the generic environment node.

In: the driver's ``go1/joint_states``, ``go1/imu``, ``go1/velocity`` (estimated or mocap)
and ``go1/foot_force`` (``SENSOR`` QoS) -> the task's (1, 76) measurement; foot heights and
velocities come from the leg kinematics of the project's MJCF (heights relative to the
lowest foot: the robot knows no absolute height). The joystick command is part of the
measurement: with ``adapter.command_source: sample`` (online training) the adapter draws
commands as the simulator does (``Go1JoystickTask.sample_commands``, resampled at
exponential intervals), with ``cmd_vel`` it takes the newest ``cmd_vel``
(geometry_msgs/Twist; zero when older than 0.5 s; NaN/inf refused, clipped to the task's
``command_range``).
Out: ``go1/joint_targets`` (sensor_msgs/JointState, ``COMMAND`` QoS) from the task's
action scaling. ``stop()``: while the robot is upright and inside its limits it is held at
the default pose; otherwise (flipped, joint/torque limit) the driver is put in damping
through ``go1/estop``. ``reset()``: clear the e-stop, optionally call
``adapter.reset_service`` (``sim/reset`` in simulation: the simulated robot is laid down;
'' on hardware, where the operator places it) and wait ``adapter.settle_s``, then
``go1/release`` (the driver stands the robot up) and wait ``adapter.stand_up_wait_s``.
While a reset runs, ``stop()`` (which the environment node calls every tick between
episodes) judges only measurements that arrived after the driver accepted ``go1/release``:
a reading from before the lay-down (the robot that just flipped) must not e-stop the robot
the reset is standing up -- the e-stop would reach the driver after the release and damp
the stand-up (seen in the Go1 main job: episodes that began lying, "flipped" at step 0).
"""

import time

from geometry_msgs.msg import QuaternionStamped, Twist, TwistStamped
from go1_rl_env import model
from go1_rl_env.estimator import LegKinematics, quat_to_matrix
from go1_rl_env.task import MEASUREMENT_DIM, SLICES
import numpy as np
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rl_core import ros_qos
from rl_core.hardware import HardwareAdapter, ResetFuture
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Bool
from std_srvs.srv import Trigger
import torch


class Go1Adapter(HardwareAdapter):
    """Driver topics in, joint targets out; reset = stand-up through the driver."""

    def configure(self, node, task, prefix: str) -> None:
        """Declare ``<prefix>.*`` parameters and create the topics and clients."""
        super().configure(node, task, prefix)

        def param(name, default, text, **kw):
            return node.declare_parameter(f'{prefix}.{name}', default, ParameterDescriptor(
                description=text, read_only=True, **kw)).value
        self.reset_service = param('reset_service', 'sim/reset', 'Trigger service laying '
                                   'the simulated robot down before a stand-up (empty on '
                                   'hardware: the operator places the robot).')
        self.command_source = param('command_source', 'sample', 'Joystick command: '
                                    '"sample" (drawn as in simulation) or "cmd_vel".')
        if self.command_source not in ('sample', 'cmd_vel'):
            raise ValueError(f'{prefix}.command_source={self.command_source!r}: must be '
                             '"sample" or "cmd_vel"')
        self.stand_up_wait_s = param('stand_up_wait_s', 2.5, 'Wait after go1/release for '
                                     'the stand-up (s).', floating_point_range=[
                                         FloatingPointRange(from_value=0.0, to_value=60.0)])
        self.settle_s = param('settle_s', 0.3, 'Wait after the reset service (the robot '
                              'laid down) before go1/release, so the driver stands up from '
                              'the lying pose it has measured (s).', floating_point_range=[
                                  FloatingPointRange(from_value=0.0, to_value=10.0)])
        self.names = list(model.SDK_JOINT_NAMES)
        self.kin = LegKinematics()
        self.generator = torch.Generator().manual_seed(0)
        self.command_now = task.sample_commands(1, self.generator)[0]
        self.q_target = np.array(model.DEFAULT_POSE)
        self.parts = {}
        self.cmd_vel = None
        self.stopped = False
        # Measurements that arrived before this time are not judged by stop() (a reset is
        # running: see the module docstring); None: judge every measurement.
        self.judge_after = None
        self.reset_id = 0          # a reset's callbacks act only while theirs is current
        self.reset_timer = None
        self.target_pub = node.create_publisher(JointState, 'go1/joint_targets',
                                                ros_qos.COMMAND)
        self.estop_pub = node.create_publisher(Bool, 'go1/estop', ros_qos.LATCHED)
        for topic, kind in (('go1/joint_states', JointState), ('go1/imu', Imu),
                            ('go1/velocity', TwistStamped),
                            ('go1/foot_force', QuaternionStamped)):
            node.create_subscription(kind, topic, self._store(topic), ros_qos.SENSOR)
        node.create_subscription(Twist, 'cmd_vel', self.on_cmd_vel, 10)
        self.release_client = node.create_client(Trigger, 'go1/release')
        self.reset_client = (node.create_client(Trigger, self.reset_service)
                             if self.reset_service else None)

    def _store(self, topic):
        def callback(msg):
            self.parts[topic] = (msg, self.node.get_clock().now().nanoseconds * 1e-9)
        return callback

    def on_cmd_vel(self, msg: Twist) -> None:
        """
        Keep the newest joystick command, within what the policy was trained on.

        A command with NaN/inf is refused (the robot then stands: zero command once the
        last good one is 0.5 s old); one outside the task's ``command_range`` is clipped to
        it, both with a throttled message naming the values.
        """
        cmd = np.array([msg.linear.x, msg.linear.y, msg.angular.z])
        if not np.isfinite(cmd).all():
            self.node.get_logger().error(f'cmd_vel {cmd.tolist()} refused: NaN/inf',
                                         throttle_duration_sec=2.0)
            return
        limit = np.asarray(self.task.config.command_range, dtype=float)
        clipped = np.clip(cmd, -limit, limit)
        if not np.array_equal(clipped, cmd):
            self.node.get_logger().warn(
                f'cmd_vel (vx, vy, yaw rate) {np.round(cmd, 3).tolist()} clipped to '
                f'{np.round(clipped, 3).tolist()}: the policy was trained on commands within '
                f'+-{limit.tolist()} (task command_range)', throttle_duration_sec=2.0)
        self.cmd_vel = (clipped, time.monotonic())

    def describe_source(self) -> str:
        """Return the driver's joint-state topic."""
        return self.node.resolve_topic_name('go1/joint_states')

    def current_command(self) -> np.ndarray:
        """Return the joystick command in effect (vx, vy, yaw rate)."""
        if self.command_source == 'cmd_vel':
            if self.cmd_vel is None or time.monotonic() - self.cmd_vel[1] > 0.5:
                return np.zeros(3)
            return self.cmd_vel[0]
        return self.command_now.numpy()

    def latest(self):
        """Return the newest (measurement (1, 76), oldest arrival time) or None."""
        if len(self.parts) < 4:
            return None
        js, t1 = self.parts['go1/joint_states']
        imu, t2 = self.parts['go1/imu']
        vel, t3 = self.parts['go1/velocity']
        feet, t4 = self.parts['go1/foot_force']
        index = {n: i for i, n in enumerate(js.name)}
        order = [index[n] for n in self.names]
        q = np.array(js.position)[order]
        dq = np.array(js.velocity)[order]
        tau = np.array(js.effort)[order] if len(js.effort) == 12 else np.zeros(12)
        o = imu.orientation
        quat = np.array([o.w, o.x, o.y, o.z])
        rot = quat_to_matrix(quat) if np.isfinite(quat).all() and quat.any() else np.eye(3)
        gyro = np.array([imu.angular_velocity.x, imu.angular_velocity.y,
                         imu.angular_velocity.z])
        v = vel.twist.linear
        v_body = np.array([v.x, v.y, v.z])
        f = feet.quaternion
        force = np.array([f.x, f.y, f.z, f.w])
        m = np.zeros(MEASUREMENT_DIM, np.float32)
        m[SLICES['linvel']] = v_body
        m[SLICES['gyro']] = gyro
        m[SLICES['gravity']] = rot.T @ np.array([0.0, 0.0, -1.0])
        m[SLICES['q']], m[SLICES['dq']], m[SLICES['tau']] = q, dq, tau
        m[SLICES['q_target']] = self.q_target
        m[SLICES['command']] = self.current_command()
        m[SLICES['foot_contact']] = force > 20.0
        if np.isfinite(q).all() and np.isfinite(dq).all():
            pos, jacs = self.kin.feet(q)
            world = pos @ rot.T
            m[SLICES['foot_height']] = world[:, 2] - world[:, 2].min()
            foot_vel = (rot @ v_body + np.cross(rot @ gyro, world)
                        + np.einsum('ij,fjk,k->fi', rot, jacs, dq))
            m[SLICES['foot_vel']] = foot_vel[:, :2].reshape(8)
        else:
            m[SLICES['q']] = q   # non-finite values go to the task's check, named
        return torch.from_numpy(m).unsqueeze(0), min(t1, t2, t3, t4)

    def _publish_targets(self, q) -> None:
        msg = JointState()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.name = self.names
        msg.position = [float(x) for x in q]
        self.target_pub.publish(msg)

    def command(self, action) -> None:
        """Send the action as joint targets; resample the command as the simulator does."""
        a = torch.as_tensor(action, dtype=torch.float32).reshape(1, -1)
        q = self.task.joint_targets(a)[0].numpy()
        self.q_target = q
        self.stopped = False
        self._publish_targets(q)
        if bool(self.task.resample_mask(1, self.generator)[0]):
            self.command_now = self.task.sample_commands(
                1, self.generator, previous=self.command_now.reshape(1, 3))[0]

    def stop(self) -> None:
        """Hold the default pose while upright and in limits; damping otherwise."""
        latest = self.latest()
        if self.judge_after is not None and (latest is None or latest[1] < self.judge_after):
            unsafe = ''   # a reset runs and this reading predates its release: not judged
        elif latest is None:
            unsafe = 'no_state'
        else:
            m = latest[0]
            unsafe = ('non_finite' if not bool(torch.isfinite(m).all())
                      else self.task.safety_violation(m))
        if unsafe:
            if not self.stopped:
                self.estop_pub.publish(Bool(data=True))
                self.node.get_logger().warn(f'Go1 to damping: {unsafe}')
            self.stopped = True
            return
        self.q_target = np.array(model.DEFAULT_POSE)
        self._publish_targets(self.q_target)

    def cancel_reset(self) -> None:
        """Abandon a running reset (abort, e-stop): no release follows; judge all again."""
        self.reset_id += 1
        if self.reset_timer is not None:
            self.node.destroy_timer(self.reset_timer)
            self.reset_timer = None
        self.judge_after = None

    def not_ready(self) -> str:
        """Return why a start must wait (no robot state, driver or reset service missing)."""
        missing = [t for t in ('go1/joint_states', 'go1/imu', 'go1/velocity',
                               'go1/foot_force') if t not in self.parts]
        if missing:
            return f'no state from the driver yet: {", ".join(missing)}'
        age = self.node.get_clock().now().nanoseconds * 1e-9 - self.latest()[1]
        if age > 1.0:
            return f'driver state is {age:.1f} s old: is the robot on and connected?'
        if not self.release_client.service_is_ready():
            return f"driver service {self.node.resolve_service_name('go1/release')} " \
                   'is not available'
        if self.reset_client is not None and not self.reset_client.service_is_ready():
            return f'reset service {self.node.resolve_service_name(self.reset_service)} ' \
                   'is not available'
        return ''

    def reset(self) -> ResetFuture:
        """Clear the e-stop, lay down (sim) and settle, stand up through the driver, wait."""
        self.cancel_reset()   # a new id: callbacks of an earlier reset do nothing more
        future = ResetFuture()
        my_id = self.reset_id
        self.estop_pub.publish(Bool(data=False))
        self.stopped = False
        self.judge_after = float('inf')   # until the driver has accepted go1/release
        self.command_now = self.task.sample_commands(1, self.generator)[0]
        self.q_target = np.array(model.DEFAULT_POSE)

        def current():   # an abandoned reset (cancel_reset, a newer reset) does nothing more
            return my_id == self.reset_id and not future.done()

        def failed(reason):
            self.judge_after = None
            future.set_result(False, reason)

        def later(seconds, then):
            def fire():
                self.node.destroy_timer(self.reset_timer)
                self.reset_timer = None
                if current():
                    then()
            self.reset_timer = self.node.create_timer(max(seconds, 0.001), fire)

        def released(call):
            if not current():
                return
            result = call.result()
            if result is None or not result.success:
                failed('go1/release refused: ' + (
                    result.message if result is not None else str(call.exception())))
                return
            self.judge_after = self.node.get_clock().now().nanoseconds * 1e-9
            later(self.stand_up_wait_s, lambda: future.set_result(True, 'standing'))

        def release():
            self.release_client.call_async(Trigger.Request()).add_done_callback(released)

        if self.reset_client is not None:
            def laid(call):
                if not current():
                    return
                result = call.result()
                if result is None or not result.success:
                    failed(f'reset service failed: {call.exception()}')
                    return
                # The driver stands up from the pose it measures at go1/release: let the
                # lying robot's state reach it first (a reading from before the lay-down
                # makes it swing the folded legs to the default pose at once).
                later(self.settle_s, release)
            self.reset_client.call_async(Trigger.Request()).add_done_callback(laid)
        else:
            release()
        return future
