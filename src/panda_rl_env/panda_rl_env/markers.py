# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The ArUco cube: marker textures for the simulator and the cube pose from a camera image.

The paper's cube: 50 mm, six 42 mm markers of OpenCV's ``DICT_ARUCO_ORIGINAL``, one per
face, ids between 571 and 621 (here 571, 581, ..., 621). The same images are textured on the
simulated cube (``face_pngs``) and printed for the real one (``python -m
panda_rl_env.markers --print-dir DIR`` writes them at 42 mm marker size).

``CubeDetector`` finds the markers with OpenCV, estimates each one's pose with
``solvePnP`` (IPPE_SQUARE), moves half a cube edge into the cube along the marker's normal
and averages over the markers seen: the cube centre in the camera frame; with the
calibrated camera pose (``CameraPose``) it becomes the cube position in the robot base
frame. Position only: the task needs no cube orientation.
"""

import dataclasses
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

DICTIONARY = cv2.aruco.DICT_ARUCO_ORIGINAL
MARKER_IDS = (571, 581, 591, 601, 611, 621)
#: MuJoCo cube-texture faces, in the order the ids are assigned.
CUBE_SIDES = ('right', 'left', 'up', 'down', 'front', 'back')
CUBE_EDGE = 0.05
MARKER_SIZE = 0.042
#: Texture resolution: 7 ArUco cells of 21 px = 147 px = 42 mm, 14 px (4 mm) white margin.
_CELL_PX = 21
_FACE_PX = 175


def face_file(marker_id: int) -> str:
    """Texture file name of one face."""
    return f'aruco_{marker_id}.png'


def face_image(marker_id: int) -> np.ndarray:
    """One cube face: the marker on white, (175, 175) uint8."""
    dictionary = cv2.aruco.getPredefinedDictionary(DICTIONARY)
    marker = cv2.aruco.generateImageMarker(dictionary, marker_id, 7 * _CELL_PX)
    face = np.full((_FACE_PX, _FACE_PX), 255, np.uint8)
    margin = (_FACE_PX - marker.shape[0]) // 2
    face[margin:margin + marker.shape[0], margin:margin + marker.shape[1]] = marker
    return face


def face_pngs() -> Dict[str, bytes]:
    """PNG bytes of every face by file name (MuJoCo model assets)."""
    out = {}
    for marker_id in MARKER_IDS:
        ok, png = cv2.imencode('.png', cv2.cvtColor(face_image(marker_id), cv2.COLOR_GRAY2BGR))
        assert ok
        out[face_file(marker_id)] = png.tobytes()
    return out


def intrinsics_from_fovy(width: int, height: int, fovy_deg: float) -> np.ndarray:
    """Pinhole camera matrix of a MuJoCo camera (square pixels, centred)."""
    f = 0.5 * height / np.tan(np.radians(fovy_deg) / 2)
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


@dataclasses.dataclass
class CameraPose:
    """The camera's optical frame (OpenCV: x right, y down, z forward) in the base frame."""

    position: np.ndarray
    rotation: np.ndarray  # 3x3, columns = optical axes in base coordinates

    @classmethod
    def looking_at(cls, pos: Sequence[float], target: Sequence[float]) -> 'CameraPose':
        """Return the pose of a camera at ``pos`` looking at ``target`` (world z up)."""
        f = np.asarray(target, float) - np.asarray(pos, float)
        f /= np.linalg.norm(f)
        right = np.cross(f, (0.0, 0.0, 1.0))
        right /= np.linalg.norm(right)
        down = np.cross(f, right)
        return cls(np.asarray(pos, float), np.stack([right, down, f], axis=1))

    @classmethod
    def from_quaternion(cls, pos: Sequence[float], quat_xyzw: Sequence[float]) -> 'CameraPose':
        """Return the pose from a translation and an xyzw quaternion (TF convention)."""
        return cls(np.asarray(pos, float), quaternion_matrix(quat_xyzw)[:3, :3])

    def to_base(self, p_camera: np.ndarray) -> np.ndarray:
        """Transform a point from the optical frame into the base frame."""
        return self.rotation @ np.asarray(p_camera, float) + self.position


def quaternion_matrix(quat_xyzw: Sequence[float]) -> np.ndarray:
    """4x4 rotation matrix of an xyzw quaternion (``tf_transformations`` when importable)."""
    try:
        from tf_transformations import quaternion_matrix as qm
        return np.asarray(qm(quat_xyzw))
    except ImportError:
        from transforms3d.quaternions import quat2mat
        x, y, z, w = quat_xyzw
        out = np.eye(4)
        out[:3, :3] = quat2mat((w, x, y, z))
        return out


@dataclasses.dataclass
class Detection:
    """The cube seen in one image: centre (camera and base frame), the marker ids used."""

    center_camera: np.ndarray
    center_base: np.ndarray
    ids: Tuple[int, ...]
    reprojection_px: float


class CubeDetector:
    """ArUco markers -> cube centre, for one camera (intrinsics) at one pose."""

    def __init__(self, camera_matrix: np.ndarray, pose: CameraPose,
                 distortion: Optional[np.ndarray] = None):
        """Use the camera's intrinsics (3x3), its pose and its distortion (default none)."""
        self.camera_matrix = np.asarray(camera_matrix, float)
        self.distortion = np.zeros(5) if distortion is None else np.asarray(distortion, float)
        self.pose = pose
        params = cv2.aruco.DetectorParameters()
        params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
        self.detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(DICTIONARY),
                                                params)
        s = MARKER_SIZE / 2
        # IPPE_SQUARE's corner order: top-left, top-right, bottom-right, bottom-left.
        self.object_points = np.array([[-s, s, 0], [s, s, 0], [s, -s, 0], [-s, -s, 0]],
                                      np.float64)

    def detect(self, image: np.ndarray) -> Optional[Detection]:
        """Return the cube in an image (gray or BGR uint8), or None when no marker is seen."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        corners, ids, _ = self.detector.detectMarkers(gray)
        if ids is None:
            return None
        centers, used, errors = [], [], []
        for quad, marker_id in zip(corners, ids.reshape(-1)):
            if int(marker_id) not in MARKER_IDS:
                continue
            img_pts = quad.reshape(4, 2).astype(np.float64)
            ok, rvec, tvec = cv2.solvePnP(self.object_points, img_pts, self.camera_matrix,
                                          self.distortion, flags=cv2.SOLVEPNP_IPPE_SQUARE)
            if not ok or not (np.isfinite(rvec).all() and np.isfinite(tvec).all()):
                continue
            rot, _ = cv2.Rodrigues(rvec)
            # The marker's z axis points out of the face: the centre is half an edge behind.
            centers.append(tvec.reshape(3) - rot[:, 2] * (CUBE_EDGE / 2))
            used.append(int(marker_id))
            proj, _ = cv2.projectPoints(self.object_points, rvec, tvec, self.camera_matrix,
                                        self.distortion)
            errors.append(float(np.abs(proj.reshape(4, 2) - img_pts).max()))
        if not centers:
            return None
        center = np.mean(centers, axis=0)
        return Detection(center, self.pose.to_base(center), tuple(used), max(errors))


def main(argv: Optional[List[str]] = None) -> int:
    """Write the six faces as PNGs for printing (42 mm markers on 50 mm faces)."""
    import argparse
    import pathlib
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument('--print-dir', required=True)
    args = parser.parse_args(argv)
    out = pathlib.Path(args.print_dir)
    out.mkdir(parents=True, exist_ok=True)
    for marker_id in MARKER_IDS:
        face = cv2.resize(face_image(marker_id), (591, 591), interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(out / face_file(marker_id)), face)  # 591 px = 50 mm at 300 dpi
    print(f'wrote {len(MARKER_IDS)} faces to {out}: print at 300 dpi (50 mm faces)')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
