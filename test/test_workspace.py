# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The workspace is complete: packages, interfaces, set-up commands."""

import pathlib
import xml.etree.ElementTree as ET

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = {'rl_interfaces': 'ament_cmake', 'rl_core': 'ament_python',
            'rl_agent': 'ament_python', 'rl_replay': 'ament_python', 'rl_env': 'ament_python',
            'rl_experiments': 'ament_python', 'racecar_rl_env': 'ament_python',
            'go1_rl_env': 'ament_python', 'panda_rl_env': 'ament_python',
            'franka_msgs': 'ament_cmake', 'tf2_msgs': 'ament_cmake',
            'sim_bridge': 'ament_python'}


@pytest.mark.parametrize('name,build_type', sorted(PACKAGES.items()))
def test_package_manifest(name, build_type):
    assert sorted(p.name for p in (ROOT / 'src').iterdir() if (p / 'package.xml').is_file()) \
        == sorted(PACKAGES)
    tree = ET.parse(ROOT / 'src' / name / 'package.xml').getroot()
    assert tree.get('format') == '3'
    assert tree.find('name').text == name
    assert tree.find('export/build_type').text == build_type
    if build_type == 'ament_python':
        assert (ROOT / 'src' / name / 'resource' / name).is_file()
        assert (ROOT / 'src' / name / name / '__init__.py').is_file()


def test_core_modules_do_not_import_rclpy():
    offenders = []
    for path in (ROOT / 'src').rglob('*.py'):
        skip = any(k in path.name for k in ('node', 'driver', 'bridge', 'ros_'))
        if skip or 'test' in path.parts:
            continue
        text = path.read_text()
        if 'import rclpy' in text or 'from rclpy' in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_interfaces_round_trip_through_rclpy_and_rosbags():
    msg = pytest.importorskip('rl_interfaces.msg')
    from rclpy.serialization import deserialize_message, serialize_message
    from rl_replay.bag_io import deserialize, make_transition, serialize, TRANSITION_TYPE
    obs = np.linspace(-1, 1, 45).astype(np.float32)
    pixels = np.arange(2 * 4 * 3, dtype=np.uint8).reshape(2, 4, 3)
    ours = make_transition(1_700_000_000_123_456_789, 'trial', 7, 42, obs, [0.25, -1.0], -0.5,
                           True, False, obs * 2, pixels=pixels, next_pixels=pixels)
    raw = serialize(ours, TRANSITION_TYPE)
    decoded = deserialize_message(raw, msg.Transition)
    assert decoded.episode_id == 7 and decoded.step_id == 42 and decoded.terminated
    assert np.array_equal(np.asarray(decoded.observation.state, np.float32), obs)
    assert len(decoded.observation.images) == 2
    assert decoded.observation.images[1].encoding == 'mono8'
    assert bytes(decoded.observation.images[1].data) == pixels[1].tobytes()
    # rclpy leaves CDR padding bytes uninitialised, so compare decoded fields, not bytes.
    again = deserialize(serialize_message(decoded), TRANSITION_TYPE)
    assert again.trial_id == 'trial' and again.step_id == 42 and again.reward == -0.5
    assert np.array_equal(again.next_observation.state, obs * 2)
    assert np.array_equal(again.observation.images[0].data, pixels[0].reshape(-1))


def test_sim2online_is_on_path_and_explains_itself():
    import os
    import shutil
    import subprocess
    exe = shutil.which('sim2online')
    assert exe, 'sim2online is not on PATH after sourcing scripts/ros_env.sh'
    for sub in ('tasks', 'pretrain', 'run', 'ablation', 'table', 'evaluate', 'bags'):
        out = subprocess.run([exe, sub, '--help'], capture_output=True, text=True, timeout=120,
                             env=dict(os.environ))
        assert out.returncode == 0 and 'usage:' in out.stdout, (sub, out.stderr)
    out = subprocess.run([exe, 'tasks'], capture_output=True, text=True, timeout=120)
    assert 'racecar_parking' in out.stdout and 'state 45' in out.stdout
    out = subprocess.run([exe, 'run', '--task', 'moon_rover'], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and "unknown task 'moon_rover'" in out.stderr
    out = subprocess.run([exe, 'run', '--task', 'racecar', '--set', 'online.utd=3'],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--set 'online.utd=3': expected NODE:PARAM=VALUE" \
        in out.stderr, out.stderr


def test_run_set_overrides_one_node_parameter_in_the_graph_file(tmp_path):
    import yaml
    from rl_experiments.sim_to_online import parse_set, set_param
    assert parse_set('rl_agent:online.alpha_end=0.5') == ('rl_agent', 'online.alpha_end', 0.5)
    assert parse_set(' rl_env : env.trial_id = a b') == ('rl_env', 'env.trial_id', 'a b')
    assert parse_set('rl_agent:agent.d0_bags=[x, y]')[2] == ['x', 'y']
    data = {}
    set_param(data, *parse_set('rl_agent:online.alpha_end=0.5'))
    assert yaml.safe_load(yaml.safe_dump(data)) == {
        '/**/rl_agent': {'ros__parameters': {'online': {'alpha_end': 0.5}}}}


def test_setup_commands_exist_and_ci_uses_the_guard():
    ci = (ROOT / '.ci' / 'run').read_text()
    assert 'no-offhost-traffic' in ci and 'scripts/run_tests.sh' in ci
    readme = (ROOT / 'README.md').read_text()
    assert 'scripts/run_tests.sh' in readme and 'scripts/run_demo.sh' in readme
