# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Malformed, unknown and out-of-range parameters at the boundaries are refused at start.

Each node exits with status 2 and one clear fatal line naming the parameter and the
problem, instead of a traceback or a robot running with a half-understood configuration.
"""

import os
import subprocess

from graph_harness import executable, params_with, ros_env, write_untrained_pi0
import pytest

pytest.importorskip('rclpy')


def start(tmp_path, package, exe, name, overrides):
    params = params_with(overrides, tmp_path)
    out = subprocess.run([executable(package, exe), '--ros-args', '-r', f'__node:={name}',
                          '--params-file', str(params)], env=ros_env(150 + os.getpid() % 20),
                         capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout + out.stderr


@pytest.mark.parametrize('values,message', [
    ({'racecar.param_overrides': '{"D_f": 0.3'}, 'car parameter overrides are not valid JSON'),
    ({'racecar.param_overrides': '{"wings": 2}'}, "unknown car parameter(s) ['wings']"),
    ({'racecar.variant': 'moon'}, "unknown car variant 'moon'"),
    ({'physics_rate_hz': -5.0}, 'physics_rate_hz'),
])
def test_sim_bridge_refuses_malformed_plugin_parameters(tmp_path, values, message):
    write_untrained_pi0(tmp_path, 'd0')
    code, out = start(tmp_path, 'sim_bridge', 'sim_bridge_node', 'sim_bridge', {
        '/**': {'task.checkpoint': str(tmp_path / 'checkpoint.pt')}, 'sim_bridge': values})
    assert code == 2, out
    assert 'refusing to start' in out and message in out, out
    assert 'Traceback' not in out


@pytest.mark.parametrize('values,message', [
    ({'/**': {'task.overrides': '{"episode_steps": 0}'}}, 'episode_steps=0 is out of range'),
    ({'/**': {'task.overrides': '{"control_hz": 50}'}}, "['control_hz'] may not be overridden"),
    ({'/**': {'task.overrides': 'episode_steps=3'}}, 'task.overrides is not valid JSON'),
    ({'rl_env': {'env.action_timeout_s': -1.0}}, 'env.action_timeout_s'),
])
def test_env_node_refuses_bad_task_and_env_parameters(tmp_path, values, message):
    write_untrained_pi0(tmp_path, 'd0')
    overrides = {'/**': {'task.checkpoint': str(tmp_path / 'checkpoint.pt')}}
    for node, params in values.items():
        overrides.setdefault(node, {}).update(params)
    code, out = start(tmp_path, 'rl_env', 'env_node', 'rl_env', overrides)
    assert code == 2, out
    assert 'refusing to start' in out and message in out, out
