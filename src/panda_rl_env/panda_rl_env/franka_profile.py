# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The franka_ros2 interface names of a robot software stack (``config/franka_profiles.yaml``)."""

import dataclasses
import pathlib
from typing import Dict, Optional

import yaml

KEYS = ('release', 'arm_prefix', 'equilibrium_pose', 'current_pose', 'current_pose_qos',
        'gripper_joint_states', 'gripper_move', 'gripper_grasp', 'gripper_homing',
        'error_recovery', 'error_recovery_kind')


@dataclasses.dataclass(frozen=True)
class FrankaProfile:
    """Topic, action and service names of one franka_ros2 flavour."""

    name: str
    release: str
    arm_prefix: str
    equilibrium_pose: str
    current_pose: str
    current_pose_qos: str
    gripper_joint_states: str
    gripper_move: str
    gripper_grasp: str
    gripper_homing: str
    error_recovery: str
    error_recovery_kind: str


def profiles_path() -> pathlib.Path:
    """Return the installed profiles file (share/panda_rl_env/config) or the source copy."""
    try:
        from ament_index_python.packages import get_package_share_directory
        path = pathlib.Path(get_package_share_directory('panda_rl_env')) / 'config' / \
            'franka_profiles.yaml'
        if path.is_file():
            return path
    except Exception:  # noqa: BLE001 (not installed: the source tree)
        pass
    return pathlib.Path(__file__).resolve().parents[1] / 'config' / 'franka_profiles.yaml'


def load_profiles(path: Optional[pathlib.Path] = None) -> Dict[str, FrankaProfile]:
    """Read and check every profile."""
    path = path or profiles_path()
    data = yaml.safe_load(pathlib.Path(path).read_text())
    out = {}
    for name, entry in data.items():
        missing = [k for k in KEYS if k not in entry]
        unknown = sorted(set(entry) - set(KEYS))
        if missing or unknown:
            raise ValueError(f'franka profile {name!r} in {path}: missing {missing}, unknown '
                             f'{unknown}')
        if entry['current_pose_qos'] not in ('best_effort', 'reliable'):
            raise ValueError(f'franka profile {name!r}: current_pose_qos must be best_effort '
                             f'or reliable, not {entry["current_pose_qos"]!r}')
        if entry['error_recovery_kind'] not in ('action', 'service'):
            raise ValueError(f'franka profile {name!r}: error_recovery_kind must be action or '
                             f'service, not {entry["error_recovery_kind"]!r}')
        out[name] = FrankaProfile(name=name, **{k: str(entry[k]) for k in KEYS})
    return out


def load_profile(name: str, path: Optional[pathlib.Path] = None) -> FrankaProfile:
    """Return one profile by name, or say which exist."""
    profiles = load_profiles(path)
    if name not in profiles:
        raise ValueError(f'unknown franka profile {name!r}: use one of {sorted(profiles)} '
                         f'(or add it to {path or profiles_path()})')
    return profiles[name]
