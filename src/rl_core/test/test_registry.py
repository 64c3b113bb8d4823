# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The registry: tasks by name, a robot added from outside, and clear refusals."""

import json
import os
import pathlib
import subprocess
import sys

import pytest
from rl_core import registry
from rl_core.run_info import (check_observation_spec, parse_overrides, resolve_task,
                              TaskMismatchError)

FIXTURES = pathlib.Path(__file__).resolve().parent / 'fixtures' / 'toy_robot'
GENERIC_PACKAGES = ('rl_core', 'rl_agent', 'rl_replay', 'rl_env', 'sim_bridge',
                    'rl_experiments')
ROBOT_PACKAGES = ('racecar_rl_env', 'panda_rl_env', 'go1_rl_env', 'toy_robot')


def test_unknown_task_is_refused_listing_the_registered_ones():
    with pytest.raises(registry.UnknownTaskError, match="unknown task 'moon_rover'.*racecar"):
        registry.load('moon_rover')


def test_a_robot_added_outside_the_workspace_is_listed_by_sim2online(tmp_path):
    env = dict(os.environ, PYTHONPATH=f"{FIXTURES}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    out = subprocess.run([sys.executable, '-m', 'rl_experiments.cli', 'tasks', '--json'],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = {row['task']: row for row in json.loads(out.stdout)}
    assert rows['toy_point']['observation'] == 'state 1'
    assert rows['toy_point']['action'] == 'action 1 (velocity)'
    assert rows['toy_point']['reward_terms'] == ['closeness']
    assert 'racecar_parking' in rows


def test_generic_packages_import_no_robot_package():
    src = pathlib.Path(__file__).resolve().parents[2]
    offenders = []
    for package in GENERIC_PACKAGES:
        for path in (src / package / package).rglob('*.py'):
            for line in path.read_text().splitlines():
                words = line.split()
                if len(words) >= 2 and words[0] in ('import', 'from') and \
                        words[1].split('.')[0] in ROBOT_PACKAGES:
                    offenders.append(f'{path}: {line.strip()}')
        manifest = (src / package / 'package.xml').read_text()
        offenders += [f'{package}/package.xml depends on {robot}' for robot in ROBOT_PACKAGES
                      if f'>{robot}<' in manifest]
    assert offenders == []


def test_task_name_and_checkpoint_must_agree():
    run_info = {'task': 'racecar_parking', 'task_config': {}}
    with pytest.raises(TaskMismatchError, match="'toy_point'.*'racecar_parking'"):
        resolve_task('toy_point', run_info=run_info)
    with pytest.raises(TaskMismatchError, match='records no task'):
        resolve_task('', run_info={'sac': {}})


def test_only_overridable_fields_may_change_at_run_time():
    task, _ = resolve_task('racecar_parking', overrides={'episode_steps': 100})
    assert task.episode_steps == 100
    with pytest.raises(TaskMismatchError, match=r"\['control_hz'\] may not be overridden"):
        resolve_task('racecar_parking', overrides={'control_hz': 50.0})
    with pytest.raises(ValueError, match='not valid JSON'):
        parse_overrides('{episode_steps: 3')
    with pytest.raises(ValueError, match='must be a JSON object'):
        parse_overrides('[1, 2]')


def test_stored_task_config_wins_over_defaults():
    stored = {'task': 'racecar_parking', 'task_config': {'goal_radius': 0.5}}
    task, plugin = resolve_task(run_info=stored)
    assert task.config.goal_radius == 0.5 and plugin.name == 'racecar_parking'
    with pytest.raises(ValueError, match='no field'):
        resolve_task(run_info={'task': 'racecar_parking', 'task_config': {'wings': 2}})


def test_observation_mismatch_names_both_sides():
    task, _ = resolve_task('racecar_parking')
    with pytest.raises(TaskMismatchError,
                       match=r'checkpoint observation \(state 12\) differs from task '
                             r"racecar_parking's observation \(state 45\)"):
        check_observation_spec(task, 12)
    with pytest.raises(TaskMismatchError, match=r'pixels 1x64x64'):
        check_observation_spec(task, 45, (1, 64, 64))
