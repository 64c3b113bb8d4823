# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Panda's ROS side in one process over real DDS.

The RealSense camera node through the SDK's software device, and the hardware adapter's
inputs, faults and safe stop.
"""

import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped
import numpy as np
from panda_rl_env import model, vision
from panda_rl_env.camera import SoftwareCamera
from panda_rl_env.cv_bridge_compat import FallbackCvBridge
from panda_rl_env.ros_adapter import least_squares_velocity, PandaAdapter
from panda_rl_env.task import PandaPickTask
from panda_rl_env.vector_env import PandaWorld
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from rl_core.ros_executor import spin_until
from sensor_msgs.msg import CameraInfo, Image, JointState

pytest.importorskip('franka_msgs.action')


@pytest.fixture
def ros():
    rclpy.init()
    ex = SingleThreadedExecutor()
    yield ex
    ex.shutdown()
    rclpy.shutdown()


def test_camera_node_publishes_software_device_frames_exactly(ros):
    from panda_rl_env.camera_node import CameraNode
    world = PandaWorld(1, 'nominal')
    world.reset(np.arange(1), np.array([[0.661, -0.03]]), np.zeros(1))
    frame = world.render(0, 640, 480)
    cam = SoftwareCamera(640, 480, fx=600.0)
    node = CameraNode(source=cam.source())
    probe = Node('camera_probe')
    got, infos, diags = [], [], []
    probe.create_subscription(Image, 'camera/color/image_raw', got.append,
                              qos_profile_sensor_data)
    probe.create_subscription(CameraInfo, 'camera/color/camera_info', infos.append,
                              qos_profile_sensor_data)
    probe.create_subscription(DiagnosticArray, '/diagnostics', diags.append, 10)
    ros.add_node(node)
    ros.add_node(probe)
    try:
        spin_until(ros, lambda: probe.count_publishers('camera/color/image_raw') > 0, 5)
        time.sleep(0.5)
        for _ in range(3):
            cam.push(frame)
            spin_until(ros, lambda: False, 0.1)
        assert spin_until(ros, lambda: len(got) >= 1 and infos, 10)
        img = FallbackCvBridge().imgmsg_to_cv2(got[-1])
        assert got[-1].encoding == 'rgb8' and np.array_equal(img, frame)
        assert infos[-1].k[0] == pytest.approx(600.0) and infos[-1].k[2] == pytest.approx(319.5)
        # the real path's preprocessing gives the simulator's policy pixels
        assert np.array_equal(vision.preprocess(img, 64, got[-1].encoding),
                              vision.preprocess(frame, 64, 'rgb8'))
        # a camera that stops delivering is reported
        assert spin_until(ros, lambda: any('no frame for' in s.message for d in diags
                                           for s in d.status), 8)
    finally:
        node.destroy_node()
        probe.destroy_node()


def test_least_squares_velocity_of_a_line():
    samples = [(0.1 * k, np.array([0.5, 0.01 * k, 0.2 - 0.02 * k])) for k in range(10)]
    assert least_squares_velocity(samples) == pytest.approx([0.0, 0.1, -0.2])
    assert least_squares_velocity(samples[:1]).tolist() == [0.0, 0.0, 0.0]


class Rig:
    """An env-node stand-in hosting the adapter, and a probe playing the drivers."""

    def __init__(self, ex, **params):
        self.task = PandaPickTask()
        overrides = [Parameter('adapter.profile', value='sim'),
                     Parameter('adapter.reset_service', value='')]
        overrides += [Parameter(f'adapter.{k}', value=v) for k, v in params.items()]
        self.node = Node('rl_env_stand_in', parameter_overrides=overrides)
        self.adapter = PandaAdapter()
        self.adapter.configure(self.node, self.task, 'adapter')
        self.probe = Node('driver_probe')
        best = rclpy.qos.QoSProfile(depth=1, reliability=rclpy.qos.ReliabilityPolicy.BEST_EFFORT)
        self.pose_pub = self.probe.create_publisher(
            PoseStamped, 'franka_robot_state_broadcaster/current_pose', best)
        self.js_pub = self.probe.create_publisher(JointState, 'franka_gripper/joint_states', 10)
        self.img_pub = self.probe.create_publisher(Image, 'camera/color/image_raw', 10)
        self.cube_pub = self.probe.create_publisher(PoseStamped, 'cube_pose', 10)
        self.eq = []
        self.probe.create_subscription(
            PoseStamped, 'cartesian_impedance_controller/equilibrium_pose', self.eq.append, 10)
        self.ex = ex
        ex.add_node(self.node)
        ex.add_node(self.probe)
        world = PandaWorld(1, 'nominal')
        world.reset(np.arange(1), np.array([[0.661, -0.05]]), np.zeros(1))
        self.frame = world.render(0, 640, 480)
        spin_until(ex, lambda: self.probe.count_subscribers('cube_pose') > 0, 5)
        time.sleep(0.3)

    def send(self, tip=model.HOME_TIP, cube=(0.661, -0.05, 0.025), image=None, encoding='rgb8'):
        pose = PoseStamped()
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = tip
        self.pose_pub.publish(pose)
        self.js_pub.publish(JointState(name=['fr3_finger_joint1', 'fr3_finger_joint2'],
                                       position=[0.04, 0.04]))
        frame = self.frame if image is None else image
        msg = FallbackCvBridge().cv2_to_imgmsg(frame, 'rgb8' if frame.ndim == 3 else 'mono8')
        if encoding != msg.encoding:
            msg.encoding = encoding
        self.img_pub.publish(msg)
        if cube is not None:
            c = PoseStamped()
            c.pose.position.x, c.pose.position.y, c.pose.position.z = cube
            self.cube_pub.publish(c)
        spin_until(self.ex, lambda: False, 0.15)

    def close(self):
        self.node.destroy_node()
        self.probe.destroy_node()


def test_adapter_measurement_uses_the_one_preprocessing(ros):
    rig = Rig(ros)
    try:
        rig.send()
        assert spin_until(ros, lambda: rig.adapter.latest() is not None, 5)
        m, _ = rig.adapter.latest()
        assert m.fault == ''
        assert np.array_equal(m.pixels[0, 0].numpy(), vision.preprocess(rig.frame, 64, 'rgb8'))
        assert m.field('tip')[0].tolist() == pytest.approx(list(model.HOME_TIP))
        assert m.field('cube_seen')[0, 0] == 1.0
        rig.task.check_measurement(m)
    finally:
        rig.close()


def test_adapter_faults_have_specific_reasons_and_stop_holds_the_arm(ros):
    rig = Rig(ros, cube_lost_s=0.3, follow_timeout_s=0.2)
    try:
        rig.send(encoding='yuv422')
        spin_until(ros, lambda: rig.adapter.latest() is not None, 5)
        assert rig.adapter.latest()[0].fault.startswith("bad_image: camera encoding 'yuv422'")
        rig.adapter.fault = ''
        rig.send(image=np.zeros((240, 320, 3), np.uint8))
        assert rig.adapter.latest()[0].fault == \
            'bad_image: camera frame 320x240, expected 640x480 (adapter.image_size)'
        # markers out of view for longer than cube_lost_s during an episode
        rig.adapter.fault = ''
        rig.adapter.in_episode = True
        rig.adapter.last_cube_seen = rig.adapter.now()
        for _ in range(4):
            rig.send(cube=None)
            rig.adapter.latest()
        assert rig.adapter.latest()[0].fault.startswith('cube_lost: no ArUco marker of the '
                                                        'cube seen for')
        # a controller that does not follow: the tip stays 6 cm from the equilibrium
        rig.adapter.fault = ''
        rig.adapter.target = np.array(model.HOME_TIP) + np.array([0.0, 0.0, 0.06])
        for _ in range(4):   # the env node asks every control step
            rig.send()
            rig.adapter.latest()
        assert rig.adapter.latest()[0].fault.startswith('controller_not_following: the tip '
                                                        'stayed 0.060 m')
        # stop(): the equilibrium goes to the measured tip, the arm holds still there
        tip = (0.661, 0.02, 0.12)
        rig.send(tip=tip)
        rig.adapter.stop()
        assert spin_until(ros, lambda: rig.eq, 5)
        p = rig.eq[-1].pose.position
        assert (p.x, p.y, p.z) == pytest.approx(tip)
        assert rig.eq[-1].pose.orientation.x == 1.0  # pointing down
        # the task turns the fault into the abort reason
        from rl_core.task import SafetyAbort
        m, _ = rig.adapter.latest()
        m.fault = 'cube_lost: test'
        with pytest.raises(SafetyAbort, match='^cube_lost: test$'):
            rig.task.check_measurement(m)
    finally:
        rig.close()


def test_a_lost_camera_shows_as_stale_data_naming_the_image_topic(ros):
    rig = Rig(ros)
    try:
        rig.send()
        assert spin_until(ros, lambda: rig.adapter.latest() is not None, 5)
        image_time = rig.adapter.parts['image'][1]
        for _ in range(5):   # the arm and the gripper keep talking, the camera does not
            pose = PoseStamped()
            pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = model.HOME_TIP
            rig.pose_pub.publish(pose)
            rig.js_pub.publish(JointState(position=[0.04, 0.04]))
            spin_until(ros, lambda: False, 0.1)
        _, arrived = rig.adapter.latest()
        assert arrived == image_time   # the env node's stale_state check sees the camera age
        assert rig.adapter.describe_source() == '/camera/color/image_raw'
    finally:
        rig.close()
