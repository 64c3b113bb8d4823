# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The car's installed launch file starts exactly the registered node list.

No ``launch_ros`` exists here, so the installed launch file is executed against recording
stand-ins of the few ``launch``/``launch_ros`` classes it uses; the Node actions it creates
are compared with the registration (``PLUGIN.nodes``), which ``sim2online run`` and the
tests' harness start from too.
"""

import importlib.util
import pathlib
import sys
import types

from graph_harness import PLUGIN, SIM_ONLY


class Recorded:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


def load_launch_description(monkeypatch, plugin=PLUGIN):
    modules = {name: types.ModuleType(name) for name in (
        'launch', 'launch.actions', 'launch.conditions', 'launch.substitutions',
        'launch_ros', 'launch_ros.actions')}
    modules['launch'].LaunchDescription = lambda actions: list(actions)
    modules['launch.actions'].DeclareLaunchArgument = type('DeclareLaunchArgument',
                                                           (Recorded,), {})
    modules['launch.conditions'].IfCondition = type('IfCondition', (Recorded,), {})
    modules['launch.conditions'].UnlessCondition = type('UnlessCondition', (Recorded,), {})
    modules['launch.substitutions'].LaunchConfiguration = type('LaunchConfiguration',
                                                               (Recorded,), {})
    modules['launch_ros.actions'].Node = type('Node', (Recorded,), {})
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    path = pathlib.Path(plugin.share_path('launch', plugin.launch_file))
    assert path.is_file(), f'{path} is not installed'
    spec = importlib.util.spec_from_file_location(f'{plugin.robot}_launch', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate_launch_description()


def test_installed_launch_file_starts_the_registered_nodes(monkeypatch):
    actions = load_launch_description(monkeypatch)
    nodes = [a for a in actions if type(a).__name__ == 'Node']
    launched = [(n.kwargs['package'], n.kwargs['executable'], n.kwargs['name'])
                for n in nodes]
    assert launched == [(n.package, n.executable, n.name) for n in PLUGIN.nodes]
    args = {a.args[0]: a.kwargs['default_value'] for a in actions
            if type(a).__name__ == 'DeclareLaunchArgument'}
    assert args['use_sim'] == 'true' and args['namespace'] == ''
    installed = pathlib.Path(PLUGIN.share_path('config', PLUGIN.params_file))
    assert pathlib.Path(args['params_file']).resolve() == installed.resolve()
    for node in nodes:
        assert [p.args[0] for p in node.kwargs['parameters']] == ['params_file']
        assert node.kwargs['namespace'].args[0] == 'namespace'
        assert [(a, b.args[0]) for a, b in node.kwargs['remappings']] == [
            ('mocap/car/pose', 'mocap_topic')]
        assert (node.kwargs['condition'] is not None) == (node.kwargs['name'] in SIM_ONLY)


def test_every_node_has_an_installed_executable_and_a_params_section():
    import yaml
    from graph_harness import executable
    installed = pathlib.Path(PLUGIN.share_path('config', PLUGIN.params_file))
    sections = yaml.safe_load(installed.read_text())
    for spec in PLUGIN.nodes:
        assert pathlib.Path(executable(spec.package, spec.executable)).is_file()
        assert 'ros__parameters' in sections[f'/**/{spec.name}'], spec.name
    assert sections['/**']['ros__parameters']['task']['name'] == PLUGIN.name


def test_panda_launch_file_starts_its_registered_nodes_per_world(monkeypatch):
    import yaml
    from graph_harness import executable
    from rl_core import registry
    plugin = registry.load('panda_pick')
    actions = load_launch_description(monkeypatch, plugin)
    nodes = [a for a in actions if type(a).__name__ == 'Node']
    assert [(n.kwargs['package'], n.kwargs['executable'], n.kwargs['name']) for n in nodes] \
        == [(n.package, n.executable, n.name) for n in plugin.nodes]
    only = {n.name: n.only for n in plugin.nodes}
    assert only['sim_bridge'] == 'sim' and only['camera'] == 'hardware'
    for node in nodes:
        kind = {'sim': 'IfCondition', 'hardware': 'UnlessCondition'}.get(
            only[node.kwargs['name']])
        assert type(node.kwargs['condition']).__name__ == (kind or 'NoneType')
    args = {a.args[0]: a.kwargs['default_value'] for a in actions
            if type(a).__name__ == 'DeclareLaunchArgument'}
    assert args['use_sim'] == 'true' and args['profile'] == 'sim'
    # every node has its executable and a section in the parameter file of its world
    for world, params_file in (('sim', plugin.params_file), ('hardware', 'panda_hardware.yaml')):
        sections = yaml.safe_load(pathlib.Path(plugin.share_path('config', params_file))
                                  .read_text())
        for spec in plugin.graph_nodes(use_sim=world == 'sim'):
            assert pathlib.Path(executable(spec.package, spec.executable)).is_file()
            assert 'ros__parameters' in sections[f'/**/{spec.name}'], (params_file, spec.name)


def test_learner_launch_builds_the_learner_from_the_agents_section(monkeypatch, tmp_path):
    # rl_agent's learner.launch.py: a node rl_learner (agent_node) whose parameters are the
    # robot file, then the rl_agent section of it, then the role (and the device if given).
    from ament_index_python.packages import get_package_share_directory
    modules = {name: types.ModuleType(name) for name in (
        'launch', 'launch.actions', 'launch.substitutions', 'launch_ros',
        'launch_ros.actions')}
    modules['launch'].LaunchDescription = lambda actions: list(actions)
    modules['launch.actions'].DeclareLaunchArgument = type('DeclareLaunchArgument',
                                                           (Recorded,), {})
    modules['launch.actions'].OpaqueFunction = type('OpaqueFunction', (Recorded,), {})
    modules['launch.substitutions'].LaunchConfiguration = type(
        'LaunchConfiguration', (Recorded,), {'perform': lambda self, ctx: ctx[self.args[0]]})
    modules['launch_ros.actions'].Node = type('Node', (Recorded,), {})
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    path = pathlib.Path(get_package_share_directory('rl_agent')) / 'launch' / \
        'learner.launch.py'
    spec = importlib.util.spec_from_file_location('learner_launch', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    actions = module.generate_launch_description()
    opaque = next(a for a in actions if type(a).__name__ == 'OpaqueFunction')
    params = pathlib.Path(PLUGIN.share_path('config', PLUGIN.params_file))
    node, = opaque.kwargs['function']({'params_file': str(params), 'namespace': 'car1',
                                       'device': 'cuda'})
    assert (node.kwargs['package'], node.kwargs['executable'], node.kwargs['name'],
            node.kwargs['namespace']) == ('rl_agent', 'agent_node', 'rl_learner', 'car1')
    file_, agent, override = node.kwargs['parameters']
    assert file_ == str(params)
    assert agent['online']['utd'] == 10.0 and 'sac' in agent
    assert override == {'agent.role': 'learner', 'agent.device': 'cuda'}
    bad = tmp_path / 'bad.yaml'
    bad.write_text('/**:\n  ros__parameters: {}\n')
    import pytest
    with pytest.raises(ValueError, match='no rl_agent section'):
        opaque.kwargs['function']({'params_file': str(bad), 'namespace': '', 'device': ''})
