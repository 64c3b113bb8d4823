# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The one image preprocessing of the Panda task: center square crop, resize, grayscale.

Used by the simulator (pretraining), by the sim bridge's camera and by the real camera path
(the env node's adapter), so a policy sees the same pixels whatever the camera resolution:
``preprocess(frame, size, encoding)`` takes an (H, W, 3) color frame (``rgb8`` or ``bgr8``)
or an (H, W) ``mono8`` frame and returns (size, size) uint8.
"""

import cv2
import numpy as np

ENCODINGS = ('rgb8', 'bgr8', 'mono8')


def center_square(frame: np.ndarray) -> np.ndarray:
    """Return the largest centered square of a frame."""
    h, w = frame.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return frame[top:top + side, left:left + side]


def preprocess(frame: np.ndarray, size: int = 64, encoding: str = 'rgb8') -> np.ndarray:
    """Center square crop -> resize to ``size`` (area filter) -> grayscale, uint8."""
    if encoding not in ENCODINGS:
        raise ValueError(f'image encoding {encoding!r} is not supported: use one of '
                         f'{", ".join(ENCODINGS)}')
    frame = np.asarray(frame)
    channels = 1 if encoding == 'mono8' else 3
    expected = 2 if channels == 1 else 3
    if frame.dtype != np.uint8 or frame.ndim != expected or (
            channels == 3 and frame.shape[2] != 3) or min(frame.shape[:2]) < 1:
        raise ValueError(f'a {encoding} frame must be uint8 (H, W{", 3" if channels == 3 else ""}'
                         f'), got {frame.dtype} {frame.shape}')
    square = center_square(frame)
    if square.shape[0] != size:
        interp = cv2.INTER_AREA if square.shape[0] > size else cv2.INTER_LINEAR
        square = cv2.resize(square, (size, size), interpolation=interp)
    if channels == 3:
        code = cv2.COLOR_RGB2GRAY if encoding == 'rgb8' else cv2.COLOR_BGR2GRAY
        square = cv2.cvtColor(np.ascontiguousarray(square), code)
    return np.ascontiguousarray(square, dtype=np.uint8)
