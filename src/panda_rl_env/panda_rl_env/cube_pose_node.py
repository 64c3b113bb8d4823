# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Cube pose node: ArUco markers in the camera image -> the cube in the robot base frame.

Subscribes ``camera/color/image_raw`` and ``camera/color/camera_info`` (``SENSOR`` QoS),
detects the cube's markers with ``markers.CubeDetector`` (OpenCV), transforms the centre
into ``base_frame`` with the calibrated camera pose (parameters ``camera_position`` and
``camera_orientation`` xyzw, the optical frame in the base frame; the math goes through
``tf_transformations`` when importable, else ``transforms3d``) and publishes it as
``cube_pose`` (geometry_msgs/PoseStamped, ``SENSOR`` QoS) and as the TF ``base_frame`` ->
``cube_frame`` on ``/tf``. An image without markers publishes nothing: the consumer sees the
pose age (the adapter's ``cube_seen``). Position only (orientation identity).
"""

from geometry_msgs.msg import PoseStamped, TransformStamped
import numpy as np
from panda_rl_env import markers, model
from panda_rl_env.cv_bridge_compat import CvBridge, CvBridgeError
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rl_core import ros_executor, ros_qos
from rl_core.ros_diagnostics import Health
from sensor_msgs.msg import CameraInfo, Image
from tf2_msgs.msg import TFMessage

CUBE_TOPIC = 'cube_pose'


def default_camera_pose():
    """Return the simulated camera's optical frame in the base frame: (position, xyzw)."""
    pose = markers.CameraPose.looking_at(model.CAMERA['pos'], model.CAMERA['target'])
    from transforms3d.quaternions import mat2quat
    w, x, y, z = mat2quat(pose.rotation)
    return [float(v) for v in pose.position], [float(x), float(y), float(z), float(w)]


class CubePoseNode(Node):
    """Image + camera info in, cube pose and TF out."""

    def __init__(self, **kwargs):
        """Declare the calibration parameters and the topics."""
        super().__init__('cube_pose', **kwargs)
        pos, quat = default_camera_pose()

        def param(name, default, text):
            return self.declare_parameter(name, default, ParameterDescriptor(
                description=text, read_only=True)).value
        position = param('camera_position', pos, 'Calibrated position of the camera optical '
                         'frame in the base frame (m).')
        orientation = param('camera_orientation', quat, 'Calibrated orientation (xyzw) of the '
                            'camera optical frame in the base frame.')
        self.base_frame = param('base_frame', 'fr3_link0', 'Robot base frame.')
        self.cube_frame = param('cube_frame', 'cube', 'TF frame of the cube centre.')
        if len(position) != 3 or len(orientation) != 4 or not np.isfinite(
                list(position) + list(orientation)).all() or np.linalg.norm(orientation) < 0.5:
            raise ValueError(f'camera_position={list(position)} / camera_orientation='
                             f'{list(orientation)}: need 3 finite values and a unit xyzw '
                             'quaternion')
        q = np.asarray(orientation, float)
        self.camera_pose = markers.CameraPose.from_quaternion(position, q / np.linalg.norm(q))
        self.bridge = CvBridge()
        self.detector = None
        self.pose_pub = self.create_publisher(PoseStamped, CUBE_TOPIC, ros_qos.SENSOR)
        self.tf_pub = self.create_publisher(TFMessage, '/tf', 100)
        self.create_subscription(CameraInfo, 'camera/color/camera_info', self.on_info,
                                 ros_qos.SENSOR)
        self.create_subscription(Image, 'camera/color/image_raw', self.on_image, ros_qos.SENSOR)
        self.health = Health(self, hardware_id='aruco')
        self.health.warn('waiting for camera_info')
        self.seen = self.missed = 0

    def on_info(self, msg: CameraInfo) -> None:
        """Build the detector from the first (or a changed) camera matrix."""
        k = np.array(msg.k, float).reshape(3, 3)
        if self.detector is None or not np.allclose(self.detector.camera_matrix, k):
            d = np.array(msg.d, float) if len(msg.d) else None
            self.detector = markers.CubeDetector(k, self.camera_pose, d)

    def on_image(self, msg: Image) -> None:
        """Detect the cube and publish its pose."""
        if self.detector is None:
            return
        try:
            gray = self.bridge.imgmsg_to_cv2(msg, 'mono8')
        except CvBridgeError as exc:
            self.health.error(f'image refused: {exc}')
            self.get_logger().error(f'image refused: {exc}', throttle_duration_sec=5.0)
            return
        found = self.detector.detect(gray)
        if found is None:
            self.missed += 1
            self.health.warn('no cube marker in view', seen=self.seen, missed=self.missed)
            return
        self.seen += 1
        if self.seen == 1:
            self.get_logger().info(f'cube in view: markers {list(found.ids)} at '
                                   f'{[round(float(v), 3) for v in found.center_base]} m')
        pose = PoseStamped()
        pose.header.stamp = msg.header.stamp
        pose.header.frame_id = self.base_frame
        p = found.center_base
        pose.pose.position.x, pose.pose.position.y, pose.pose.position.z = (
            float(p[0]), float(p[1]), float(p[2]))
        pose.pose.orientation.w = 1.0
        self.pose_pub.publish(pose)
        tf = TransformStamped()
        tf.header = pose.header
        tf.child_frame_id = self.cube_frame
        tf.transform.translation.x, tf.transform.translation.y, tf.transform.translation.z = (
            float(p[0]), float(p[1]), float(p[2]))
        tf.transform.rotation.w = 1.0
        self.tf_pub.publish(TFMessage(transforms=[tf]))
        self.health.ok('cube in view', markers=','.join(str(i) for i in found.ids),
                       reprojection_px=round(found.reprojection_px, 2))


def main(args=None):
    """Run the node until Ctrl-C / SIGTERM."""
    return ros_executor.run_node(CubePoseNode, 'cube_pose', (ValueError,), args=args)


if __name__ == '__main__':
    main()
