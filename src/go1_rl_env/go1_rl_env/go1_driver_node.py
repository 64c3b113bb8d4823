# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Go1 / Go2 driver node: joint targets in, robot state out, damping whenever in doubt.

The low-level loop (``go1_rl_env.lowlevel``) runs in its own thread at the SDK rate over
the backend named by ``driver.backend``: ``go1_udp`` (the Go1's legacy UDP SDK,
``unitree_legged_sdk``) or ``go2_dds`` (``unitree_sdk2py``). Topics (relative names):

- in ``go1/joint_targets`` (sensor_msgs/JointState, names = SDK joint names, positions in
  rad; ``COMMAND`` QoS): the env node's PD targets; Kp/Kd from ``driver.kp``/``driver.kd``;
- in ``go1/estop`` (std_msgs/Bool, latched e-stop QoS and best effort): true -> damping;
- service ``go1/release`` (std_srvs/Trigger): the operator acknowledges, the driver stands
  the robot up (interpolating from the measured pose to the default pose over
  ``driver.stand_up_s``) and then follows targets;
- out ``go1/joint_states`` (sensor_msgs/JointState: q, dq, estimated torque), ``go1/imu``
  (sensor_msgs/Imu: orientation, gyro, accelerometer), ``go1/velocity``
  (geometry_msgs/TwistStamped: the estimated base velocity in the body frame, or the mocap
  one when ``driver.mocap_topic`` is set) and ``go1/foot_force`` (geometry_msgs/
  QuaternionStamped holding the four foot forces FR, FL, RR, RL in x, y, z, w), all
  ``SENSOR`` QoS at ``driver.publish_hz``;
- ``/diagnostics``: damping and why (command timeout, robot silent, NaN readings, e-stop).

Damping is latched: only ``go1/release`` leaves it.
"""

import math
import threading
import time

from geometry_msgs.msg import QuaternionStamped, TwistStamped
from go1_rl_env import model
from go1_rl_env.estimator import Go1VelocityEstimator
from go1_rl_env.lowlevel import LowLevelLoop
import numpy as np
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.node import Node
from rl_core import ros_executor, ros_qos
from rl_core.ros_diagnostics import Health
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

BACKENDS = ('go1_udp', 'go2_dds')


def make_backend(backend: str, cfg: dict):
    """Build the named SDK backend (imports the SDK only here)."""
    if backend == 'go1_udp':
        from go1_rl_env.legacy_udp import SdkBackend
        return SdkBackend(cfg['robot_ip'], cfg['robot_port'], cfg['local_port'])
    if backend == 'go2_dds':
        from go1_rl_env.go2_dds import Go2Backend
        return Go2Backend(cfg['dds_domain'], cfg['network_interface'])
    raise ValueError(f'driver.backend={backend!r}: must be one of {BACKENDS}')


class Go1DriverNode(Node):
    """Feed the robot PD targets at the SDK rate; publish its state; damp on faults."""

    def __init__(self, **kwargs):
        """Declare parameters, open the backend, start the loop and the publishers."""
        super().__init__('go1_driver', **kwargs)

        def fparam(name, default, text, low, high):
            return self.declare_parameter(name, float(default), ParameterDescriptor(
                description=text, read_only=True,
                floating_point_range=[FloatingPointRange(from_value=low, to_value=high)])).value

        def iparam(name, default, text, low, high):
            return self.declare_parameter(name, int(default), ParameterDescriptor(
                description=text, read_only=True,
                integer_range=[IntegerRange(from_value=low, to_value=high, step=1)])).value

        def sparam(name, default, text):
            return self.declare_parameter(name, default, ParameterDescriptor(
                description=text, read_only=True)).value
        backend = sparam('driver.backend', 'go1_udp', 'Low-level backend: "go1_udp" (Go1, '
                         'legacy UDP SDK) or "go2_dds" (Go2 family, unitree_sdk2py).')
        cfg = {
            'robot_ip': sparam('driver.robot_ip', '192.168.123.10',
                               'Go1 motor controller address (tests: 127.0.0.1).'),
            'robot_port': iparam('driver.robot_port', 8007, 'Go1 UDP port.', 1, 65535),
            'local_port': iparam('driver.local_port', 8080, 'Local UDP port.', 1, 65535),
            'dds_domain': iparam('driver.dds_domain', 0, 'Go2 DDS domain id.', 0, 232),
            'network_interface': sparam('driver.network_interface', '', 'Go2 network '
                                        'interface (empty: loopback only).'),
        }
        sdk_hz = fparam('driver.sdk_hz', 500.0, 'Rate of the low-level loop (Hz).', 1.0,
                        2000.0)
        control_hz = fparam('driver.control_hz', 50.0, "The task's control rate (Hz).", 1.0,
                            1000.0)
        timeout_s = fparam('driver.command_timeout_s', 2.0 / control_hz, 'Damping when no '
                           'target arrived within this time (s): two control periods.',
                           0.001, 10.0)
        state_timeout_s = fparam('driver.state_timeout_s', 0.1, 'Damping when the robot sent '
                                 'no state for this long (s).', 0.002, 10.0)
        self.kp = fparam('driver.kp', model.KP, 'PD stiffness (N m/rad).', 0.0, 200.0)
        self.kd = fparam('driver.kd', model.KD, 'PD damping (N m s/rad).', 0.0, 20.0)
        damping_kd = fparam('driver.damping_kd', 2.0, 'Damping-mode gain.', 0.0, 20.0)
        self.stand_up_s = fparam('driver.stand_up_s', 2.0, 'Stand-up interpolation time (s).',
                                 0.1, 30.0)
        publish_hz = fparam('driver.publish_hz', 200.0, 'State publishing rate (Hz).', 1.0,
                            1000.0)
        mocap_topic = sparam('driver.mocap_topic', '', 'TwistStamped topic with the base '
                             'velocity in the body frame from mocap (empty: estimate it).')
        self.health = Health(self, 'go1')
        self.backend = make_backend(backend, cfg)
        self.loop = LowLevelLoop(self.backend, sdk_hz, timeout_s, state_timeout_s,
                                 damping_kd=damping_kd, on_event=self.on_damping)
        self.estimator = Go1VelocityEstimator()
        self.stand_lock = threading.Lock()
        self.standing_up = None
        self.names = list(model.SDK_JOINT_NAMES)
        self.pub_joints = self.create_publisher(JointState, 'go1/joint_states', ros_qos.SENSOR)
        self.pub_imu = self.create_publisher(Imu, 'go1/imu', ros_qos.SENSOR)
        self.pub_vel = self.create_publisher(TwistStamped, 'go1/velocity', ros_qos.SENSOR)
        self.pub_feet = self.create_publisher(QuaternionStamped, 'go1/foot_force',
                                              ros_qos.SENSOR)
        self.create_subscription(JointState, 'go1/joint_targets', self.on_targets,
                                 ros_qos.COMMAND)
        self.create_subscription(Bool, 'go1/estop', self.on_estop, ros_qos.LATCHED)
        if mocap_topic:
            self.create_subscription(TwistStamped, mocap_topic, self.on_mocap, ros_qos.SENSOR)
        self.create_service(Trigger, 'go1/release', self.on_release)
        self.last_pub = time.monotonic()
        self.create_timer(1.0 / publish_hz, self.publish_state)
        self.loop.start()
        self.get_logger().info(f'Go1 driver: backend {backend}, SDK loop {sdk_hz:g} Hz, '
                               f'damping after {timeout_s * 1000:.0f} ms without a target; '
                               'motors damped until go1/release')

    # ------------------------------------------------------------------ callbacks
    def on_damping(self, reason: str) -> None:
        """Log once why the motors went to damping."""
        self.get_logger().error(f'motors in damping mode: {reason}')

    def on_targets(self, msg: JointState) -> None:
        """Latch PD targets (by joint name) unless standing up or damped."""
        if self.standing_up is not None or self.loop.damping:
            return
        try:
            index = {n: i for i, n in enumerate(msg.name)}
            q = [msg.position[index[n]] for n in self.names]
        except (KeyError, IndexError):
            self.get_logger().error('joint targets without all 12 SDK joint names: '
                                    f'{list(msg.name)}', throttle_duration_sec=1.0)
            return
        if not all(math.isfinite(v) for v in q):
            self.loop.damp('non_finite_target: the env node sent NaN/inf targets')
            return
        self.loop.set_target(q, self.kp, self.kd)

    def on_estop(self, msg: Bool) -> None:
        """Damp on an e-stop."""
        if msg.data:
            self.loop.damp('estop')

    def on_mocap(self, msg: TwistStamped) -> None:
        """Use the mocap velocity instead of the estimate."""
        v = msg.twist.linear
        self.estimator.set_mocap([v.x, v.y, v.z])

    def on_release(self, request, response):
        """Operator acknowledgement: stand up from the measured pose, then follow targets."""
        state = self.loop.latest_state()
        if state is None or state[1] > 0.5:
            response.success = False
            response.message = 'no recent robot state: is the robot on and connected?'
            return response
        start = np.array(state[0]['q'])
        self.loop.release()
        with self.stand_lock:
            self.standing_up = (start, time.monotonic())
        self.estimator.reset()
        response.success = True
        response.message = f'standing up over {self.stand_up_s:g} s'
        return response

    # ------------------------------------------------------------------ timer
    def publish_state(self) -> None:
        """Stand-up interpolation, velocity estimate and state publishing."""
        now_mono = time.monotonic()
        with self.stand_lock:
            stand = self.standing_up
        if stand is not None:
            start, t0 = stand
            s = min(1.0, (now_mono - t0) / self.stand_up_s)
            target = (1 - s) * start + s * np.array(model.DEFAULT_POSE)
            self.loop.set_target(target, self.kp, self.kd)
            if s >= 1.0:
                with self.stand_lock:
                    self.standing_up = None
        latest = self.loop.latest_state()
        damping = self.loop.damping
        if damping:
            self.health.error(f'damping: {damping}')
        elif stand is not None:
            self.health.ok('standing up')
        else:
            self.health.ok('following targets')
        if latest is None:
            return
        st, age = latest
        dt = max(1e-4, now_mono - self.last_pub)
        self.last_pub = now_mono
        v = self.estimator.update(st['q'], st['dq'], st['quaternion'], st['gyro'],
                                  st['accel'], st['foot_force'], dt)
        stamp = self.get_clock().now().to_msg()
        js = JointState()
        js.header.stamp = stamp
        js.name = self.names
        js.position = [float(x) for x in st['q']]
        js.velocity = [float(x) for x in st['dq']]
        js.effort = [float(x) for x in st['tau_est']]
        self.pub_joints.publish(js)
        imu = Imu()
        imu.header.stamp, imu.header.frame_id = stamp, 'trunk'
        w, x, y, z = (float(c) for c in st['quaternion'])
        imu.orientation.w, imu.orientation.x, imu.orientation.y, imu.orientation.z = w, x, y, z
        g = st['gyro']
        imu.angular_velocity.x, imu.angular_velocity.y, imu.angular_velocity.z = \
            (float(c) for c in g)
        a = st['accel']
        imu.linear_acceleration.x, imu.linear_acceleration.y, imu.linear_acceleration.z = \
            (float(c) for c in a)
        self.pub_imu.publish(imu)
        tw = TwistStamped()
        tw.header.stamp, tw.header.frame_id = stamp, 'trunk'
        tw.twist.linear.x, tw.twist.linear.y, tw.twist.linear.z = (float(c) for c in v)
        self.pub_vel.publish(tw)
        ff = QuaternionStamped()
        ff.header.stamp = stamp
        f = [float(c) for c in st['foot_force']]
        ff.quaternion.x, ff.quaternion.y, ff.quaternion.z, ff.quaternion.w = f
        self.pub_feet.publish(ff)

    def destroy_node(self):
        """Damp the motors before leaving."""
        self.loop.stop()
        super().destroy_node()


def main(args=None):
    """Run the driver until Ctrl-C / SIGTERM; the motors are damped on the way out."""
    return ros_executor.run_node(Go1DriverNode, 'go1_driver', args=args)
