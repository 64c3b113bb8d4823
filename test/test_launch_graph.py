# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
launch/racecar.launch.py and the tests' node set must not drift apart.

No ``launch`` package exists here, so the launch file is executed against recording
stand-ins of the few ``launch``/``launch_ros`` classes it uses; the Node actions it
creates are compared with ``graph_harness.NODES`` and ``PARAMS_FILE``.
"""

import importlib.util
import pathlib
import sys
import types

from graph_harness import NODES, PARAMS_FILE, ROOT, SIM_ONLY


class Recorded:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


def load_launch_description(monkeypatch):
    modules = {name: types.ModuleType(name) for name in (
        'launch', 'launch.actions', 'launch.conditions', 'launch.substitutions',
        'launch_ros', 'launch_ros.actions')}
    modules['launch'].LaunchDescription = lambda actions: list(actions)
    modules['launch.actions'].DeclareLaunchArgument = type('DeclareLaunchArgument',
                                                           (Recorded,), {})
    modules['launch.conditions'].IfCondition = type('IfCondition', (Recorded,), {})
    modules['launch.substitutions'].LaunchConfiguration = type('LaunchConfiguration',
                                                               (Recorded,), {})
    modules['launch_ros.actions'].Node = type('Node', (Recorded,), {})
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location('racecar_launch',
                                                  ROOT / 'launch' / 'racecar.launch.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.generate_launch_description()


def test_launch_file_matches_the_tested_node_set(monkeypatch):
    module, actions = load_launch_description(monkeypatch)
    nodes = [a for a in actions if type(a).__name__ == 'Node']
    launched = [(n.kwargs['package'], n.kwargs['executable'], n.kwargs['name'])
                for n in nodes]
    assert launched == NODES
    args = {a.args[0]: a.kwargs['default_value'] for a in actions
            if type(a).__name__ == 'DeclareLaunchArgument'}
    assert args['use_sim'] == 'true'
    assert pathlib.Path(args['config']).resolve() == PARAMS_FILE.resolve()
    assert pathlib.Path(module.CONFIG).resolve() == PARAMS_FILE.resolve()
    for node in nodes:
        assert [p.args[0] for p in node.kwargs['parameters']] == ['config']
        conditional = 'condition' in node.kwargs
        assert conditional == (node.kwargs['name'] in SIM_ONLY)


def test_every_node_has_an_installed_executable_and_a_params_section():
    import yaml
    from graph_harness import executable
    sections = yaml.safe_load(PARAMS_FILE.read_text())
    for package, exe, name in NODES:
        assert pathlib.Path(executable(package, exe)).is_file()
        assert 'ros__parameters' in sections[name], name
