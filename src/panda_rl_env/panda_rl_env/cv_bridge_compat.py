# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
``cv_bridge``'s two conversions: the system ROS 2 ``cv_bridge`` when importable, else ours.

PyPI's ``cv-bridge`` is a ROS 1 copy that fails with numpy 2 (see the README), so it is never
used. The fallback keeps cv_bridge's names and signatures (``CvBridge().imgmsg_to_cv2(msg,
desired_encoding='passthrough')``, ``CvBridge().cv2_to_imgmsg(img, encoding='passthrough',
header=None)``) and covers mono8, mono16, bgr8, rgb8, bgra8, rgba8, 16UC1 and 32FC1 with
row padding (``step``) and big-endian data; ``desired_encoding`` converts between the color
encodings and to mono8 as cv_bridge does.
"""

import sys

import numpy as np

#: encoding -> (numpy dtype, channels)
ENCODINGS = {'mono8': (np.uint8, 1), 'mono16': (np.uint16, 1), 'bgr8': (np.uint8, 3),
             'rgb8': (np.uint8, 3), 'bgra8': (np.uint8, 4), 'rgba8': (np.uint8, 4),
             '8UC1': (np.uint8, 1), '8UC3': (np.uint8, 3), '16UC1': (np.uint16, 1),
             '32FC1': (np.float32, 1)}


class CvBridgeError(TypeError):
    """A conversion that cannot be done (cv_bridge's exception name)."""


def _convert_color(img: np.ndarray, src: str, dst: str) -> np.ndarray:
    import cv2
    if src == dst or dst == 'passthrough':
        return img
    codes = {('rgb8', 'bgr8'): cv2.COLOR_RGB2BGR, ('bgr8', 'rgb8'): cv2.COLOR_BGR2RGB,
             ('rgb8', 'mono8'): cv2.COLOR_RGB2GRAY, ('bgr8', 'mono8'): cv2.COLOR_BGR2GRAY,
             ('rgba8', 'rgb8'): cv2.COLOR_RGBA2RGB, ('bgra8', 'bgr8'): cv2.COLOR_BGRA2BGR,
             ('rgba8', 'bgr8'): cv2.COLOR_RGBA2BGR, ('bgra8', 'rgb8'): cv2.COLOR_BGRA2RGB,
             ('rgba8', 'mono8'): cv2.COLOR_RGBA2GRAY, ('bgra8', 'mono8'): cv2.COLOR_BGRA2GRAY,
             ('mono8', 'bgr8'): cv2.COLOR_GRAY2BGR, ('mono8', 'rgb8'): cv2.COLOR_GRAY2RGB}
    if (src, dst) not in codes:
        raise CvBridgeError(f'cannot convert an image from {src} to {dst}')
    return cv2.cvtColor(img, codes[(src, dst)])


class FallbackCvBridge:
    """The subset of ``cv_bridge.CvBridge`` this suite uses, without ROS 1 code."""

    def imgmsg_to_cv2(self, img_msg, desired_encoding: str = 'passthrough') -> np.ndarray:
        """Return the image of a ``sensor_msgs/Image`` as a numpy array (H, W[, C])."""
        enc = img_msg.encoding
        if enc not in ENCODINGS:
            raise CvBridgeError(f'image encoding {enc!r} is not supported (supported: '
                                f'{", ".join(sorted(ENCODINGS))})')
        dtype, channels = ENCODINGS[enc]
        dtype = np.dtype(dtype).newbyteorder('>' if img_msg.is_bigendian else '<')
        h, w, step = int(img_msg.height), int(img_msg.width), int(img_msg.step)
        row = w * channels * dtype.itemsize
        data = np.frombuffer(bytes(img_msg.data), np.uint8)
        if h == 0 or w == 0 or step < row or data.size < step * (h - 1) + row:
            raise CvBridgeError(f'image data of {data.size} bytes does not hold {h}x{w} '
                                f'{enc} with step {step}')
        rows = np.lib.stride_tricks.as_strided(data, (h, row), (step, 1))
        img = np.ascontiguousarray(rows).view(dtype).reshape(
            (h, w, channels) if channels > 1 else (h, w))
        img = img.astype(dtype.newbyteorder('='))
        return _convert_color(img, enc, desired_encoding)

    def cv2_to_imgmsg(self, cvim: np.ndarray, encoding: str = 'passthrough', header=None):
        """Return a ``sensor_msgs/Image`` holding a numpy image."""
        from sensor_msgs.msg import Image
        img = np.ascontiguousarray(cvim)
        channels = 1 if img.ndim == 2 else img.shape[2]
        if encoding == 'passthrough':
            by_type = {(np.dtype(np.uint8), 1): 'mono8', (np.dtype(np.uint8), 3): 'bgr8',
                       (np.dtype(np.uint8), 4): 'bgra8', (np.dtype(np.uint16), 1): '16UC1',
                       (np.dtype(np.float32), 1): '32FC1'}
            key = (img.dtype.newbyteorder('='), channels)
            if key not in by_type:
                raise CvBridgeError(f'no encoding for a {img.dtype} image with {channels} '
                                    'channel(s)')
            encoding = by_type[key]
        if encoding not in ENCODINGS:
            raise CvBridgeError(f'image encoding {encoding!r} is not supported')
        dtype, want = ENCODINGS[encoding]
        if img.dtype.newbyteorder('=') != np.dtype(dtype) or channels != want:
            raise CvBridgeError(f'a {img.dtype} image with {channels} channel(s) cannot be '
                                f'encoded as {encoding}')
        msg = Image()
        if header is not None:
            msg.header = header
        msg.height, msg.width = img.shape[0], img.shape[1]
        msg.encoding = encoding
        msg.is_bigendian = int(img.dtype.byteorder == '>' or (
            img.dtype.byteorder == '=' and sys.byteorder == 'big'))
        msg.step = msg.width * channels * img.dtype.itemsize
        msg.data = img.tobytes()
        return msg


def CvBridge():  # noqa: N802 (cv_bridge's class name)
    """Return the system ``cv_bridge.CvBridge`` when importable, else the fallback."""
    try:
        from cv_bridge import CvBridge as SystemBridge
        bridge = SystemBridge()
        probe = np.arange(6, dtype=np.uint8).reshape(2, 3)
        # PyPI's ROS 1 copy imports but fails here (numpy 2): only a working bridge is used
        if np.array_equal(bridge.imgmsg_to_cv2(bridge.cv2_to_imgmsg(probe, 'mono8')), probe):
            return bridge
    except Exception:  # noqa: BLE001 (missing or broken cv_bridge: use ours)
        pass
    return FallbackCvBridge()
