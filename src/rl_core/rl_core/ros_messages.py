# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Observations to and from ``rl_interfaces`` messages (state vector + mono8 images).

Pixels (C, H, W) uint8 travel as C ``sensor_msgs/Image`` of encoding ``mono8`` (cv_bridge's
convention for one 8-bit channel), one per channel, so a bag of a camera robot opens in
any ROS image viewer. Imported by node modules only (it needs the message packages).
"""

from typing import List, Optional, Sequence, Tuple

import numpy as np


def images_from_pixels(pixels: Optional[np.ndarray], header=None) -> List:
    """Return one mono8 ``sensor_msgs/Image`` per channel of (C, H, W) uint8 pixels."""
    from sensor_msgs.msg import Image
    if pixels is None:
        return []
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 3:
        raise ValueError(f'pixels must be (C, H, W) uint8, got {pixels.shape} {pixels.dtype}')
    out = []
    for channel in pixels:
        img = Image()
        if header is not None:
            img.header = header
        img.height, img.width = int(channel.shape[0]), int(channel.shape[1])
        img.encoding = 'mono8'
        img.is_bigendian = 0
        img.step = img.width
        img.data = np.ascontiguousarray(channel).tobytes()
        out.append(img)
    return out


def pixels_from_images(images: Sequence, shape: Tuple[int, ...]) -> Optional[np.ndarray]:
    """Return (C, H, W) uint8 pixels from mono8 images, checking them against ``shape``."""
    if not shape:
        if len(images):
            raise ValueError(f'observation carries {len(images)} image(s) but the task has '
                             'no pixels')
        return None
    channels, height, width = shape
    if len(images) != channels:
        raise ValueError(f'observation carries {len(images)} image(s), the task expects '
                         f'{channels} channel(s) of {height}x{width}')
    planes = []
    for img in images:
        if img.encoding != 'mono8':
            raise ValueError(f"image encoding {img.encoding!r}, the task expects 'mono8'")
        if (img.height, img.width) != (height, width):
            raise ValueError(f'image of {img.height}x{img.width}, the task expects '
                             f'{height}x{width}')
        data = np.frombuffer(bytes(img.data), dtype=np.uint8)
        if img.step < width or data.size < img.step * height:
            raise ValueError(f'image data of {data.size} bytes is too short for '
                             f'{height}x{width} (step {img.step})')
        planes.append(data[:img.step * height].reshape(height, img.step)[:, :width])
    return np.stack(planes)
