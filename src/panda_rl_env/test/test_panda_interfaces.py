# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""franka_msgs / tf2_msgs wire identity, the cv_bridge converter, franka profiles."""

import json
import pathlib

import numpy as np
from panda_rl_env.cv_bridge_compat import CvBridgeError, FallbackCvBridge
from panda_rl_env.franka_profile import load_profile, load_profiles
import pytest

# frankaemika/franka_ros2's message files (GraspEpsilon, Grasp, Homing at 452f473, Move at
# db31071) and the RIHS01 hashes of those field lists. A franka_msgs built from other field
# lists (another release) has other hashes and would not talk to that franka_ros2.
UPSTREAM = {
    'franka_msgs/msg/GraspEpsilon': 'float64 inner # [m]\nfloat64 outer # [m]',
    'franka_msgs/action/Grasp_Goal': 'float64 width # [m]\nfranka_msgs/GraspEpsilon epsilon\n'
                                     'float64 speed # [m/s]\nfloat64 force # [N]',
    'franka_msgs/action/Grasp_Result': 'bool success\nstring error',
    'franka_msgs/action/Move_Goal': 'float64 width  # [m]\nfloat64 speed  # [m/s]',
    'franka_msgs/action/Move_Result': 'bool success\nstring error',
}
PINNED = {
    'franka_msgs/msg/GraspEpsilon':
        'RIHS01_387fda91ae7324c144958fa617e7d5dc21f99d6b054b141b073ead3d082f46d3',
    'franka_msgs/action/Grasp_Goal':
        'RIHS01_428f419ee476685cacb4eb11299e26f3a2ffa1229aa9d7e4489eb4706d070e71',
    'franka_msgs/action/Grasp_Result':
        'RIHS01_f2294990e5deb93e76692e787a35fd8d692f22982e21f2f3f488c92cef5bd713',
    'franka_msgs/action/Move_Goal':
        'RIHS01_16b42fe0e773dfad5429e6e58affa1614d4dbb1fa3af99da69311a3ad5557b94',
    'franka_msgs/action/Move_Result':
        'RIHS01_ead952993d2a1f18328c138c4ace43a460d235051f15924308a7885e4d4356bd',
    'franka_msgs/action/Grasp':
        'RIHS01_3af64eaa17e9cde03d2186af2f0997d2ee036209298758f1269fa72c963fcf0a',
    'franka_msgs/action/Move':
        'RIHS01_6e3c56e718ec1dabb3fe9652f1a5eb123a9f4779845bf963567f6e7572a362ac',
    'franka_msgs/action/Homing':
        'RIHS01_91d272474ac9e479a626e2153e9954142e104dca900fb843fec23ef78f09607e',
    'franka_msgs/action/ErrorRecovery':
        'RIHS01_6c5dbf0517672f7127a92796e6a162d096e286c26f88c96177cb4c5448dfc5f5',
    'tf2_msgs/msg/TFMessage':
        'RIHS01_e369d0f05a23ae52508854b66f6aa0437f3449d652e8cbf22d5abe85d020f087',
}


def installed_hashes(package: str):
    from ament_index_python.packages import get_package_share_directory
    share = pathlib.Path(get_package_share_directory(package))
    out = {}
    for path in share.glob('*/*.json'):
        for entry in json.loads(path.read_text())['type_hashes']:
            out[entry['type_name']] = entry['hash_string']
    return out


def test_franka_msgs_and_tf2_msgs_have_the_upstream_type_hashes():
    pytest.importorskip('franka_msgs.action')
    found = {**installed_hashes('franka_msgs'), **installed_hashes('tf2_msgs')}
    for name, digest in PINNED.items():
        assert found.get(name) == digest, name


def test_the_pins_follow_from_the_upstream_field_lists():
    # rosbags computes RIHS01 independently of rosidl; it also knows Jazzy's own tf2_msgs
    from rosbags.typesys import get_types_from_msg, get_typestore, Stores
    store = get_typestore(Stores.ROS2_JAZZY)
    for name, text in UPSTREAM.items():
        store.register(get_types_from_msg(text, name))
    for name in UPSTREAM:
        assert store.hash_rihs01(name) == PINNED[name], name
    assert store.hash_rihs01('tf2_msgs/msg/TFMessage') == PINNED['tf2_msgs/msg/TFMessage']


@pytest.mark.parametrize('encoding,shape,dtype', [
    ('mono8', (5, 7), np.uint8), ('bgr8', (5, 7, 3), np.uint8), ('rgb8', (5, 7, 3), np.uint8),
    ('rgba8', (5, 7, 4), np.uint8), ('bgra8', (5, 7, 4), np.uint8),
    ('mono16', (5, 7), np.uint16), ('16UC1', (5, 7), np.uint16),
    ('32FC1', (5, 7), np.float32)])
def test_cv_bridge_fallback_round_trips(encoding, shape, dtype):
    bridge = FallbackCvBridge()
    rng = np.random.default_rng(0)
    img = (rng.random(shape) * 1000).astype(dtype)
    msg = bridge.cv2_to_imgmsg(img, encoding)
    assert (msg.height, msg.width, msg.encoding) == (5, 7, encoding)
    back = bridge.imgmsg_to_cv2(msg)
    assert back.dtype == img.dtype and np.array_equal(back, img)


def test_cv_bridge_fallback_handles_padding_endianness_and_conversions():
    from sensor_msgs.msg import Image
    bridge = FallbackCvBridge()
    img = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    msg = bridge.cv2_to_imgmsg(img, 'rgb8')
    padded = Image(height=5, width=7, encoding='rgb8', step=7 * 3 + 3)
    padded.data = b''.join(img[r].tobytes() + b'\0\0\0' for r in range(5))
    assert np.array_equal(bridge.imgmsg_to_cv2(padded), img)
    assert np.array_equal(bridge.imgmsg_to_cv2(msg, 'bgr8'), img[:, :, ::-1])
    assert bridge.imgmsg_to_cv2(msg, 'mono8').shape == (5, 7)
    depth = np.array([[1, 256, 65535]], np.uint16)
    big = Image(height=1, width=3, encoding='16UC1', step=6, is_bigendian=1)
    big.data = depth.astype('>u2').tobytes()
    assert np.array_equal(bridge.imgmsg_to_cv2(big), depth)
    with pytest.raises(CvBridgeError, match="encoding 'yuv422' is not supported"):
        bridge.imgmsg_to_cv2(Image(height=1, width=1, encoding='yuv422', step=2, data=b'ab'))
    with pytest.raises(CvBridgeError, match='does not hold'):
        bridge.imgmsg_to_cv2(Image(height=4, width=4, encoding='mono8', step=4, data=b'abc'))
    with pytest.raises(CvBridgeError, match='cannot be encoded as rgb8'):
        bridge.cv2_to_imgmsg(np.zeros((2, 2), np.uint8), 'rgb8')


def test_franka_profiles_name_every_interface():
    profiles = load_profiles()
    assert {'fr3_jazzy', 'sim', 'multipanda'} <= set(profiles)
    fr3 = load_profile('fr3_jazzy')
    assert fr3.gripper_grasp == 'franka_gripper/grasp'
    assert fr3.current_pose == 'franka_robot_state_broadcaster/current_pose'
    assert fr3.current_pose_qos == 'best_effort'
    assert fr3.error_recovery_kind == 'action'
    multipanda = load_profile('multipanda')     # names as in multipanda_ros2 8b6a92c
    assert multipanda.error_recovery_kind == 'service'
    assert multipanda.error_recovery == 'error_recovery_service_server/error_recovery'
    assert multipanda.gripper_move == 'panda_gripper/move'
    with pytest.raises(ValueError, match="unknown franka profile 'ur5'"):
        load_profile('ur5')


def test_franka_profile_file_is_checked(tmp_path):
    bad = tmp_path / 'p.yaml'
    bad.write_text('x:\n  release: r\n')
    with pytest.raises(ValueError, match="franka profile 'x'.*missing"):
        load_profiles(bad)
