# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Camera frames through ``pyrealsense2`` (imported here only: the RealSense driver).

On the robot ``realsense_source`` starts an ``rs.pipeline`` with a color stream. Without a
camera, ``SoftwareCamera`` is a RealSense software device (the SDK's own device class): frames
pushed into it come out of ``wait_for_frames`` exactly like a camera's, with their frame
numbers and intrinsics, so the camera node runs unchanged (tests, the sim bridge's camera
check). Both give ``read(timeout_s) -> Frame`` or raise ``CameraTimeout``.
"""

import dataclasses
import threading
import time
from typing import Optional

import numpy as np


class CameraTimeout(RuntimeError):
    """No frame arrived within the timeout."""


@dataclasses.dataclass
class Frame:
    """One color frame (H, W, 3) rgb8 with its number, time stamp (ms) and intrinsics."""

    rgb: np.ndarray
    number: int
    timestamp_ms: float
    fx: float
    fy: float
    ppx: float
    ppy: float
    coeffs: tuple


def _frame_from(frames) -> Frame:
    color = frames.get_color_frame()
    if not color:
        raise CameraTimeout('a frame set without a color frame')
    intr = color.get_profile().as_video_stream_profile().get_intrinsics()
    return Frame(np.asanyarray(color.get_data()).copy(), int(color.get_frame_number()),
                 float(color.get_timestamp()), intr.fx, intr.fy, intr.ppx, intr.ppy,
                 tuple(intr.coeffs))


class RealSenseSource:
    """Frames from anything with ``wait_for_frames(ms)``: a pipeline or a syncer."""

    def __init__(self, waiter, stop=None):
        """Read from ``waiter``; ``stop()`` releases the device."""
        self.waiter = waiter
        self._stop = stop

    def read(self, timeout_s: float = 1.0) -> Frame:
        """Return the next frame or raise CameraTimeout."""
        try:
            frames = self.waiter.wait_for_frames(max(1, int(timeout_s * 1000)))
        except RuntimeError as exc:
            raise CameraTimeout(f'no frame within {timeout_s:.1f} s ({exc})') from exc
        return _frame_from(frames)

    def close(self) -> None:
        """Stop the device."""
        if self._stop is not None:
            self._stop()
            self._stop = None


def realsense_source(width: int, height: int, fps: int, serial: str = '') -> RealSenseSource:
    """Start a RealSense color stream (rgb8) on the robot computer."""
    import pyrealsense2 as rs
    pipeline = rs.pipeline()
    config = rs.config()
    if serial:
        config.enable_device(serial)
    config.enable_stream(rs.stream.color, width, height, rs.format.rgb8, fps)
    try:
        pipeline.start(config)
    except RuntimeError as exc:
        raise RuntimeError(f'RealSense color {width}x{height}@{fps} did not start'
                           f'{" (serial " + serial + ")" if serial else ""}: {exc}') from exc
    return RealSenseSource(pipeline, pipeline.stop)


class SoftwareCamera:
    """A RealSense software device: push rgb8 frames, read them like a camera's."""

    def __init__(self, width: int, height: int, fps: int = 30, fx: Optional[float] = None,
                 fy: Optional[float] = None):
        """Declare one rgb8 color stream of this size (intrinsics: centred pinhole)."""
        import pyrealsense2 as rs
        self.rs = rs
        self.width, self.height = width, height
        self.device = rs.software_device()
        self.sensor = self.device.add_sensor('Color')
        intr = rs.intrinsics()
        intr.width, intr.height = width, height
        intr.ppx, intr.ppy = (width - 1) / 2, (height - 1) / 2
        intr.fx = fx if fx is not None else float(width)
        intr.fy = fy if fy is not None else intr.fx
        intr.model = rs.distortion.none
        intr.coeffs = [0.0] * 5
        stream = rs.video_stream()
        stream.type, stream.index, stream.uid = rs.stream.color, 0, 0
        stream.width, stream.height, stream.fps = width, height, fps
        stream.bpp, stream.fmt, stream.intrinsics = 3, rs.format.rgb8, intr
        self.profile = self.sensor.add_video_stream(stream)
        self.syncer = rs.syncer()
        self.sensor.open(self.profile)
        self.sensor.start(self.syncer)
        self.number = 0
        self.lock = threading.Lock()
        self._pixels = []  # the SDK keeps a pointer: keep the arrays alive

    def push(self, rgb: np.ndarray) -> int:
        """Inject one (H, W, 3) uint8 frame; returns its frame number."""
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        if rgb.shape != (self.height, self.width, 3):
            raise ValueError(f'frame of shape {rgb.shape}, the stream is '
                             f'{self.height}x{self.width} rgb8')
        with self.lock:
            self.number += 1
            frame = self.rs.software_video_frame()
            frame.pixels = rgb
            frame.bpp, frame.stride = 3, self.width * 3
            frame.timestamp = time.time() * 1000.0
            frame.domain = self.rs.timestamp_domain.system_time
            frame.frame_number = self.number
            frame.profile = self.profile.as_video_stream_profile()
            self._pixels = (self._pixels + [rgb])[-4:]
            self.sensor.on_video_frame(frame)
            return self.number

    def source(self) -> RealSenseSource:
        """Return the reader side (what the camera node uses)."""
        return RealSenseSource(self.syncer, self.close)

    def close(self) -> None:
        """Stop the software sensor."""
        try:
            self.sensor.stop()
            self.sensor.close()
        except RuntimeError:
            pass
