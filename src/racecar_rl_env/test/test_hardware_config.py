# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The physical car's parameter file: every key is one a node declares; hardware settings."""

import dataclasses
import pathlib
import re

import pytest
from racecar_rl_env import racecar_driver_node
from racecar_rl_env.plugin import PLUGIN
import yaml

CONFIG = pathlib.Path(__file__).resolve().parents[1] / 'config'


def flatten(section, prefix=''):
    """Return {'a.b.c': value} of a nested parameter section."""
    out = {}
    for key, value in section.items():
        if isinstance(value, dict):
            out.update(flatten(value, f'{prefix}{key}.'))
        else:
            out[f'{prefix}{key}'] = value
    return out


@pytest.fixture(scope='module')
def hardware():
    data = yaml.safe_load((CONFIG / 'racecar_hardware.yaml').read_text())
    return {key: flatten(value['ros__parameters']) for key, value in data.items()}


def test_sections_are_the_hardware_nodes(hardware):
    nodes = {f'/**/{n.name}' for n in PLUGIN.nodes if n.only != 'sim'}
    assert set(hardware) == nodes | {'/**'}
    assert hardware['/**']['task.name'] == PLUGIN.name


def test_operator_places_the_car_and_acknowledges(hardware):
    env = hardware['/**/rl_env']
    assert env['adapter.reset_service'] == ''
    assert env['env.require_operator_ack'] is True
    sim = flatten(yaml.safe_load((CONFIG / 'racecar.yaml').read_text())['/**/rl_env']
                  ['ros__parameters'])
    for key in ('env.action_timeout_s', 'env.state_timeout_s', 'env.warmup_s'):
        assert env[key] >= sim[key], key


def test_env_values_are_valid_env_config_fields(hardware):
    env_node = pytest.importorskip('rl_env.env_node')
    values = {k.split('.', 1)[1]: v for k, v in hardware['/**/rl_env'].items()
              if k.startswith('env.')}
    fields = {f.name for f in dataclasses.fields(env_node.EnvNodeConfig)}
    assert set(values) <= fields, set(values) - fields
    env_node.EnvNodeConfig(**values)  # in range


def test_driver_keys_are_declared_by_the_driver(hardware):
    source = pathlib.Path(racecar_driver_node.__file__).read_text()
    declared = set(re.findall(r"'(driver\.[a-z_]+)'", source))
    assert set(hardware['/**/racecar_driver']) <= declared, declared
    timeout = hardware['/**/racecar_driver']['driver.command_timeout_s']
    rate = hardware['/**/racecar_driver']['driver.command_rate_hz']
    assert timeout == pytest.approx(2 / rate, abs=1e-3)  # two control periods
