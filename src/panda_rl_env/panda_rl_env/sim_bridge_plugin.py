# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Panda plug-in of the sim bridge: a simulated franka_ros2 and RealSense on the same names.

Served with the names of a franka profile (``<name>.profile``, default ``sim`` = the
fr3_jazzy names), so the Panda adapter and the ArUco node run unchanged:

- subscribes the equilibrium pose (PoseStamped; the impedance actuators of the MuJoCo
  scene pull the tool centre point towards it), applied after the variant's delay;
- publishes the current TCP pose (PoseStamped, best effort depth 1, as the state broadcaster
  does) and the gripper joint states (``fr3_finger_joint1/2``, each width / 2) every tick;
- serves the franka_msgs actions ``Move``, ``Grasp`` (success when the final width is within
  the goal's epsilon, as libfranka decides), ``Homing`` and ``ErrorRecovery``;
- publishes the camera as realsense2_camera does: ``camera/color/image_raw`` (rgb8, the
  native ``<name>.width`` x ``<name>.height``) and ``camera/color/camera_info`` at
  ``<name>.camera_hz``, rendered with the variant's camera pose (the "real" camera sits
  off its calibration, so the ArUco node's estimate carries a calibration error as on a
  robot);
- ``sim/reset`` (std_srvs/Trigger): the simulated operator puts the cube back on the table
  at a fresh start position;
- ``sim/cube_truth`` (PoseStamped): the simulator's cube centre with every camera frame,
  for checking the ArUco estimate (nothing on the robot side subscribes it).

Faults for tests: ``<name>.controller_follows: false`` plays franka_ros2 jazzy's stock
example controller (equilibrium poses ignored), ``<name>.grasp_fails: true`` makes every
grasp fail.
"""

import collections

from franka_msgs.action import ErrorRecovery, Grasp, Homing, Move
from geometry_msgs.msg import PoseStamped
import numpy as np
from panda_rl_env import model
from panda_rl_env.cv_bridge_compat import CvBridge
from panda_rl_env.franka_profile import load_profile
from panda_rl_env.markers import intrinsics_from_fovy
from panda_rl_env.vector_env import GRIPPER_SPEED, PandaWorld
from rcl_interfaces.msg import IntegerRange, ParameterDescriptor
from rclpy.action import ActionServer
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.task import Future
from rl_core import ros_qos
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_srvs.srv import Trigger
import torch


class PandaBridge:
    """configure / activate / step / publish / deactivate / cleanup, as bridge plug-ins do."""

    def configure(self, node, name: str, task):
        """Declare this plug-in's parameters, build the scene and the franka interfaces."""
        def param(key, default, text, **kw):
            return node.declare_parameter(f'{name}.{key}', default, ParameterDescriptor(
                description=text, read_only=True, **kw)).value
        self.node, self.task = node, task
        variant = param('variant', 'real', "Panda variant: 'real', 'sim' or 'nominal'.")
        self.profile = load_profile(param('profile', 'sim', 'franka profile whose names are '
                                          'served.'))
        size = [IntegerRange(from_value=16, to_value=1920)]
        self.width = param('width', 640, 'Camera width (px).', integer_range=size)
        self.height = param('height', 480, 'Camera height (px).', integer_range=size)
        self.camera_hz = param('camera_hz', 30.0, 'Camera frame rate (Hz).')
        self.follows = param('controller_follows', True, 'False: ignore equilibrium poses '
                             "(franka_ros2 jazzy's stock example controller).")
        self.grasp_fails = param('grasp_fails', False, 'True: every grasp fails.')
        seed = param('seed', 0, 'Seed of the cube placements.')
        self.world = PandaWorld(1, variant, seed=seed, image_size=task.config.image_size,
                                nthread=1)
        self.generator = torch.Generator().manual_seed(seed)
        self.world.apply_variant(np.arange(1))
        self.place_cube(apply_variant=False)
        self.delay_s = float(self.world.delay[0]) / task.control_hz
        self.pending = collections.deque()
        self.sim_time = 0.0
        self.next_frame = 0.0
        self.bridge = CvBridge()
        k = intrinsics_from_fovy(self.width, self.height, model.CAMERA['fovy'])
        self.k = [float(v) for v in k.reshape(-1)]
        p = self.profile
        pose_qos = QoSProfile(depth=1, history=HistoryPolicy.KEEP_LAST,
                              reliability=ReliabilityPolicy.BEST_EFFORT
                              if p.current_pose_qos == 'best_effort'
                              else ReliabilityPolicy.RELIABLE)
        self.pose_pub = node.create_publisher(PoseStamped, p.current_pose, pose_qos)
        self.gripper_pub = node.create_publisher(JointState, p.gripper_joint_states,
                                                 ros_qos.SENSOR)
        self.image_pub = node.create_publisher(Image, 'camera/color/image_raw', ros_qos.SENSOR)
        self.info_pub = node.create_publisher(CameraInfo, 'camera/color/camera_info',
                                              ros_qos.SENSOR)
        self.truth_pub = node.create_publisher(PoseStamped, 'sim/cube_truth', ros_qos.SENSOR)
        node.create_subscription(PoseStamped, p.equilibrium_pose, self.on_equilibrium, 10)
        self.servers = [
            ActionServer(node, Move, p.gripper_move, self.execute_move),
            ActionServer(node, Grasp, p.gripper_grasp, self.execute_grasp),
            ActionServer(node, Homing, p.gripper_homing, self.execute_homing),
            ActionServer(node, ErrorRecovery, p.error_recovery, self.execute_recovery)]
        node.create_service(Trigger, 'sim/reset', self.on_reset)
        self.target = np.array(model.HOME_TIP, float)
        self.finger_target = model.FINGER_MAX
        self.finger_speed = GRIPPER_SPEED
        self.gripper_waiters = []
        node.get_logger().info(f'Panda: variant {variant}, franka names of profile '
                               f'{p.name}, camera {self.width}x{self.height} at '
                               f'{self.camera_hz:g} Hz, delay {self.delay_s * 1000:.0f} ms')

    def place_cube(self, apply_variant: bool = True) -> None:
        """Home pose, gripper open, the cube at a fresh start position."""
        start = self.task.start_measurements(1, self.generator)
        yaw = ((2 * torch.rand(1, generator=self.generator) - 1)
               * self.task.config.cube_yaw_range).numpy()
        self.world.reset(np.arange(1), start.field('cube')[:, :2].numpy().astype(float), yaw,
                         apply_variant=apply_variant)

    # ------------------------------------------------------------------ franka interfaces
    def on_equilibrium(self, msg: PoseStamped) -> None:
        """Queue an equilibrium position (applied after the variant's delay)."""
        p = msg.pose.position
        target = np.array([p.x, p.y, p.z])
        if not np.isfinite(target).all():
            self.node.get_logger().error('equilibrium pose with non-finite values ignored')
            return
        self.pending.append((self.sim_time + self.delay_s, target))

    def on_reset(self, request, response):
        """Put the cube back on the table (the simulated operator)."""
        tip = self.world.tip()[0]
        a = self.world.ids['cube_qpos']
        start = self.task.start_measurements(1, self.generator)
        q = self.world.qpos[0].copy()
        q[a:a + 3] = [*start.field('cube')[0, :2].tolist(), self.world.cube_half[0] + 1e-4]
        q[a + 3:a + 7] = (1.0, 0.0, 0.0, 0.0)
        qpos = self.world.qpos
        qpos[0] = q
        self.world.qpos[:] = qpos
        qvel = self.world.qvel
        qvel[0, self.world.ids['cube_dof']:self.world.ids['cube_dof'] + 6] = 0.0
        self.world.qvel[:] = qvel
        response.success = True
        response.message = (f'cube put back at y={q[a + 1]:.3f} (tip at '
                            f'{np.round(tip, 3).tolist()})')
        return response

    async def _run_gripper(self, finger_target: float, speed: float) -> float:
        """Drive the fingers to a target, wait until they settle and return the width."""
        # a newer gripper goal preempts the running one (its result: aborted, 'preempted')
        for waiter in self.gripper_waiters:
            waiter[0].set_result(None)
        self.gripper_waiters = []
        self.finger_target = finger_target
        self.finger_speed = min(max(speed, 0.005), 0.2)
        future = Future()
        self.gripper_waiters.append([future, self.sim_time, None])
        return await future

    async def execute_move(self, goal_handle):
        """Move the fingers to a width."""
        goal = goal_handle.request
        result = Move.Result()
        if not 0.0 <= goal.width <= 2 * model.FINGER_MAX + 1e-9 or goal.speed <= 0.0:
            goal_handle.abort()
            result.success, result.error = False, f'width {goal.width} or speed {goal.speed} ' \
                'out of range'
            return result
        self.world.set_grasp_force(model.GRASP_FORCE)
        width = await self._run_gripper(goal.width / 2, goal.speed)
        if width is None:
            goal_handle.abort()
            result.success, result.error = False, 'preempted by a newer gripper goal'
            return result
        result.success = abs(width - goal.width) < 0.005
        result.error = '' if result.success else f'reached {width:.4f} m of {goal.width:.4f}'
        goal_handle.succeed()
        return result

    async def execute_grasp(self, goal_handle):
        """Close with force; success when the width ends within the epsilon window."""
        goal = goal_handle.request
        result = Grasp.Result()
        self.world.set_grasp_force(min(max(goal.force, 1.0), 70.0))
        width = await self._run_gripper(0.0, goal.speed)
        if width is None:
            goal_handle.abort()
            result.success, result.error = False, 'preempted by a newer gripper goal'
            return result
        ok = goal.width - goal.epsilon.inner <= width <= goal.width + goal.epsilon.outer
        result.success = bool(ok) and not self.grasp_fails
        if self.grasp_fails:
            result.error = 'simulated gripper fault (grasp_fails)'
        elif not ok:
            result.error = (f'width {width:.4f} m outside [{goal.width - goal.epsilon.inner:.4f}'
                            f', {goal.width + goal.epsilon.outer:.4f}]')
        goal_handle.succeed()
        return result

    async def execute_homing(self, goal_handle):
        """Open fully."""
        width = await self._run_gripper(model.FINGER_MAX, GRIPPER_SPEED)
        result = Homing.Result()
        if width is None:
            goal_handle.abort()
            result.success, result.error = False, 'preempted by a newer gripper goal'
            return result
        goal_handle.succeed()
        result.success = True
        return result

    async def execute_recovery(self, goal_handle):
        """Nothing to recover in simulation."""
        goal_handle.succeed()
        return ErrorRecovery.Result()

    # ------------------------------------------------------------------ bridge protocol
    def activate(self):
        """Nothing more to start."""

    def step(self, dt: float):
        """Apply due equilibrium poses and the gripper, advance the physics by ``dt``."""
        while self.pending and self.pending[0][0] <= self.sim_time:
            _, target = self.pending.popleft()
            if self.follows:
                self.target = target
        self.world.command(self.target[None], np.array([False]),
                           finger_targets=np.array([self.finger_target]), dt=dt,
                           speed=self.finger_speed)
        self.world.step(max(1, int(round(dt / self.world.substep_dt))))
        self.sim_time += dt
        fingers = self.world.fingers()[0]
        for waiter in list(self.gripper_waiters):
            future, began, last = waiter
            width = float(fingers.sum())
            settled = last is not None and abs(width - last) < 1e-5
            waiter[2] = width
            if (settled and self.sim_time - began > 0.1) or self.sim_time - began > 3.0:
                self.gripper_waiters.remove(waiter)
                future.set_result(width)

    def publish(self, stamp):
        """Publish the pose and the gripper every tick, camera frames at the camera rate."""
        p = self.profile
        tip = self.world.tip()[0]
        pose = PoseStamped()
        pose.header.stamp = stamp
        pose.header.frame_id = f'{p.arm_prefix}_link0'
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = (float(v)
                                                                            for v in tip)
        pose.pose.orientation.x = 1.0
        self.pose_pub.publish(pose)
        fingers = self.world.fingers()[0]
        js = JointState()
        js.header.stamp = stamp
        js.name = [f'{p.arm_prefix}_finger_joint1', f'{p.arm_prefix}_finger_joint2']
        js.position = [float(fingers[0]), float(fingers[1])]
        self.gripper_pub.publish(js)
        if self.sim_time + 1e-9 >= self.next_frame:
            self.next_frame += 1.0 / self.camera_hz
            rgb = self.world.render(0, self.width, self.height)
            img = self.bridge.cv2_to_imgmsg(rgb, 'rgb8')
            img.header.stamp = stamp
            img.header.frame_id = 'camera_color_optical_frame'
            info = CameraInfo()
            info.header = img.header
            info.width, info.height = self.width, self.height
            info.distortion_model = 'plumb_bob'
            info.d = [0.0] * 5
            info.k = self.k
            info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
            info.p = self.k[:3] + [0.0] + self.k[3:6] + [0.0] + self.k[6:] + [0.0]
            self.image_pub.publish(img)
            self.info_pub.publish(info)
            truth = PoseStamped()
            truth.header.stamp = stamp
            truth.header.frame_id = pose.header.frame_id
            c = self.world.cube()[0]
            truth.pose.position.x, truth.pose.position.y, truth.pose.position.z = (
                float(v) for v in c)
            truth.pose.orientation.w = 1.0
            self.truth_pub.publish(truth)

    def deactivate(self):
        """Release waiting gripper goals."""
        for future, _, last in self.gripper_waiters:
            future.set_result(last or 0.0)
        self.gripper_waiters = []

    def cleanup(self):
        """Destroy the action servers."""
        for server in self.servers:
            server.destroy()
