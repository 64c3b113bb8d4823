# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""One preprocessing for sim and camera frames; the ArUco cube pose against the truth."""

import cv2
import numpy as np
from panda_rl_env import markers, model, vision
from panda_rl_env.vector_env import PandaPickVectorEnv, PandaWorld
import pytest


def test_preprocess_crops_the_center_square_resizes_and_converts_to_gray():
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, 80:560] = (200, 100, 50)  # the centre square in RGB
    out = vision.preprocess(frame, 64, 'rgb8')
    assert out.shape == (64, 64) and out.dtype == np.uint8
    gray = round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)
    assert np.abs(out.astype(int) - gray).max() <= 1  # the black side bands are cut off
    bgr = vision.preprocess(frame[:, :, ::-1].copy(), 64, 'bgr8')
    assert np.array_equal(out, bgr)
    mono = vision.preprocess(np.full((100, 60), 7, np.uint8), 32, 'mono8')
    assert mono.shape == (32, 32) and (mono == 7).all()
    with pytest.raises(ValueError, match='encoding'):
        vision.preprocess(frame, 64, 'yuv422')
    with pytest.raises(ValueError, match=r'rgb8 frame must be uint8 \(H, W, 3\), got float64'):
        vision.preprocess(frame.astype(float), 64, 'rgb8')
    with pytest.raises(ValueError, match='mono8'):
        vision.preprocess(frame, 64, 'mono8')


def test_simulator_pixels_are_the_preprocessed_camera_frame():
    env = PandaPickVectorEnv(num_envs=2, variant='nominal', seed=0)
    obs, _ = env.reset()
    frame = env.world.render(1, 64, 64)
    assert np.array_equal(obs.pixels[1, 0].numpy(), vision.preprocess(frame, 64, 'rgb8'))
    # the native 640x480 camera (the bridge's, the RealSense's) gives the same picture
    native = vision.preprocess(env.world.render(1, 640, 480), 64, 'rgb8')
    diff = np.abs(native.astype(int) - obs.pixels[1, 0].numpy().astype(int))
    assert diff.mean() < 6.0, diff.mean()
    # the cube and the gripper are in view and move the image
    obs2, *_ = env.step(np.array([[0.0, -1.0, 1.0]] * 2, np.float32))
    assert (obs2.pixels[1] != obs.pixels[1]).any()


def test_marker_textures_decode_to_their_ids():
    dictionary = cv2.aruco.getPredefinedDictionary(markers.DICTIONARY)
    detector = cv2.aruco.ArucoDetector(dictionary)
    for marker_id in markers.MARKER_IDS:
        face = np.pad(markers.face_image(marker_id), 20, constant_values=255)
        _, ids, _ = detector.detectMarkers(face)
        assert ids is not None and ids.reshape(-1).tolist() == [marker_id]
    assert 571 <= min(markers.MARKER_IDS) and max(markers.MARKER_IDS) <= 621


def test_cube_position_from_aruco_matches_the_simulator_within_15mm():
    world = PandaWorld(1, 'nominal')
    cam = model.CAMERA
    detector = markers.CubeDetector(markers.intrinsics_from_fovy(640, 480, cam['fovy']),
                                    markers.CameraPose.looking_at(cam['pos'], cam['target']))
    rng = np.random.default_rng(0)
    errors = []
    for k in range(8):
        y = -0.05 + rng.uniform(-0.1, 0.1)
        world.reset(np.arange(1), np.array([[0.661, y]]), np.array([rng.uniform(-0.4, 0.4)]))
        world.step(50)
        truth = world.cube()[0]
        found = detector.detect(world.render(0, 640, 480)[:, :, ::-1].copy())
        assert found is not None, f'no marker seen at y={y:.3f}'
        assert set(found.ids) <= set(markers.MARKER_IDS)
        errors.append(np.linalg.norm(found.center_base - truth))
    print(f'ArUco cube position error (m): mean {np.mean(errors):.4f} '
          f'max {np.max(errors):.4f}')
    assert max(errors) < 0.015
    # no cube in view: no detection
    world.reset(np.arange(1), np.array([[0.661, 2.0]]), np.zeros(1))
    assert detector.detect(world.render(0, 640, 480)) is None
