# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The RealSense camera node: color frames out as ``sensor_msgs/Image`` + ``CameraInfo``.

Publishes ``camera/color/image_raw`` (rgb8, ``SENSOR`` QoS) and ``camera/color/camera_info``
(the stream's intrinsics, plumb_bob) with the names of the realsense2_camera driver, from a
``pyrealsense2`` pipeline (``width``, ``height``, ``fps``, ``serial``). Frames are converted
with cv_bridge (the system's when importable, see ``cv_bridge_compat``). A camera that
stops delivering is reported on ``/diagnostics`` and in the log ("no frame for ... s"); the
node keeps waiting for it, and the env node's adapter aborts a running episode on its own
stale-image check. Tests and the simulator hand the node another frame source (a RealSense
software device: ``camera.SoftwareCamera``).
"""

import threading
import time

from panda_rl_env.camera import CameraTimeout, realsense_source
from panda_rl_env.cv_bridge_compat import CvBridge
from rcl_interfaces.msg import IntegerRange, ParameterDescriptor
import rclpy
from rclpy.node import Node
from rl_core import ros_executor, ros_qos
from rl_core.ros_diagnostics import Health
from sensor_msgs.msg import CameraInfo, Image

IMAGE_TOPIC = 'camera/color/image_raw'
INFO_TOPIC = 'camera/color/camera_info'


class CameraNode(Node):
    """Reads frames on a thread and publishes them."""

    def __init__(self, source=None, **kwargs):
        """Open the RealSense (or use ``source``: anything with ``read(timeout_s)``)."""
        super().__init__('camera', **kwargs)

        def param(name, default, text, **kw):
            return self.declare_parameter(name, default, ParameterDescriptor(
                description=text, read_only=True, **kw)).value
        size = [IntegerRange(from_value=16, to_value=4096)]
        self.width = param('width', 640, 'Color stream width (px).', integer_range=size)
        self.height = param('height', 480, 'Color stream height (px).', integer_range=size)
        self.fps = param('fps', 30, 'Color stream rate (Hz).',
                         integer_range=[IntegerRange(from_value=1, to_value=90)])
        self.serial = param('serial', '', 'RealSense serial number (empty: the first one).')
        self.frame_id = param('frame_id', 'camera_color_optical_frame', 'Optical frame id.')
        self.timeout_s = 1.0
        self.bridge = CvBridge()
        self.image_pub = self.create_publisher(Image, IMAGE_TOPIC, ros_qos.SENSOR)
        self.info_pub = self.create_publisher(CameraInfo, INFO_TOPIC, ros_qos.SENSOR)
        self.health = Health(self, hardware_id='realsense')
        self.source = source if source is not None else realsense_source(
            self.width, self.height, self.fps, self.serial)
        self.frames = 0
        self.last_frame = time.monotonic()
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self) -> None:
        """Wait for frames and publish them until shutdown."""
        while self.running and rclpy.ok(context=self.context):
            try:
                frame = self.source.read(self.timeout_s)
            except CameraTimeout as exc:
                silent = time.monotonic() - self.last_frame
                self.health.error(f'no frame for {silent:.1f} s: {exc}')
                self.get_logger().error(f'camera: no frame for {silent:.1f} s ({exc})',
                                        throttle_duration_sec=5.0)
                continue
            except Exception as exc:  # noqa: BLE001 (a closed device at shutdown)
                if self.running:
                    self.health.error(f'camera failed: {exc}')
                    self.get_logger().error(f'camera failed: {exc}')
                return
            self.publish(frame)

    def publish(self, frame) -> None:
        """Publish one frame and its camera info."""
        stamp = self.get_clock().now().to_msg()
        msg = self.bridge.cv2_to_imgmsg(frame.rgb, 'rgb8')
        msg.header.stamp = stamp
        msg.header.frame_id = self.frame_id
        info = CameraInfo()
        info.header = msg.header
        info.height, info.width = msg.height, msg.width
        info.distortion_model = 'plumb_bob'
        info.d = [float(c) for c in frame.coeffs]
        info.k = [frame.fx, 0.0, frame.ppx, 0.0, frame.fy, frame.ppy, 0.0, 0.0, 1.0]
        info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        info.p = [frame.fx, 0.0, frame.ppx, 0.0, 0.0, frame.fy, frame.ppy, 0.0, 0.0, 0.0, 1.0,
                  0.0]
        self.image_pub.publish(msg)
        self.info_pub.publish(info)
        self.frames += 1
        self.last_frame = time.monotonic()
        self.health.ok(f'{self.frames} frames', width=msg.width, height=msg.height,
                       frame_number=frame.number)

    def destroy_node(self):
        """Stop the reader thread and the device."""
        self.running = False
        self.thread.join(timeout=2.0)
        try:
            self.source.close()
        except Exception:  # noqa: BLE001
            pass
        return super().destroy_node()


def main(args=None):
    """Run the camera node until Ctrl-C / SIGTERM (the pipeline is closed on the way out)."""
    return ros_executor.run_node(CameraNode, 'camera', (RuntimeError,), args=args)


if __name__ == '__main__':
    main()
