# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Two cars in one ROS graph, one namespace each, each with its own agent and bag.

Both graphs run in the same DDS domain, started as ``ros2 launch racecar_rl_env
racecar.launch.py namespace:=carN params_file:=...`` would start them (the registered node
list, relative names). They must not cross: each env only hears its own agent, each bag
holds only its own car's transitions, and each car keeps its own task overrides.
"""

import json
import os

from graph_harness import Graph, NODES, params_with, wait_for, write_untrained_pi0
import pytest

rclpy = pytest.importorskip('rclpy')

STEPS = {'car1': 12, 'car2': 7}


def test_two_namespaced_cars_do_not_cross(tmp_path):
    pi0 = tmp_path / 'pi0'
    pi0.mkdir()
    write_untrained_pi0(pi0, 'd0')
    domain = 170 + os.getpid() % 20
    graphs = {}
    for car, steps in STEPS.items():
        folder = tmp_path / car
        folder.mkdir()
        params = params_with({
            '/**': {'task.checkpoint': str(pi0 / 'checkpoint.pt'),
                    'task.overrides': json.dumps({'episode_steps': steps})},
            'rl_env': {'env.action_timeout_s': 3.0, 'env.state_timeout_s': 1.0,
                       'env.trial_id': f'{car}_trial'},
            'rl_agent': {'agent.online_checkpoint': str(folder / 'agent.pt'),
                         'agent.d0_bags': [str(pi0 / 'd0')], 'agent.max_episodes': 2,
                         'online.utd': 0.5, 'online.min_replay': 5, 'online.batch_size': 16},
            'rl_replay': {'replay.bag_root': str(folder / 'bags'),
                          'replay.trial_id': f'{car}_trial'},
        }, folder)
        graphs[car] = Graph(folder, params, domain, namespace=car)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    try:
        for graph in graphs.values():
            graph.start_all()
        probe = rclpy.create_node('probe', context=context)

        def wired(car):
            pubs = probe.get_publishers_info_by_topic(f'/{car}/rl/action')
            subs = probe.get_subscriptions_info_by_topic(f'/{car}/rl/action')
            return ({(p.node_namespace, p.node_name) for p in pubs},
                    {(s.node_namespace, s.node_name) for s in subs})
        for car in STEPS:
            # Each car's env hears only its own agent, and nothing runs outside a namespace.
            wait_for(lambda: wired(car) == ({(f'/{car}', 'rl_agent')}, {(f'/{car}', 'rl_env')}),
                     60, what=f'{car} wired to itself only')
        assert not probe.get_publishers_info_by_topic('/rl/action')
        assert not probe.get_subscriptions_info_by_topic('/rl/transitions')
        for car, graph in graphs.items():
            assert graph.wait_exit('rl_agent', 300) == 0, graph.log('rl_agent')
    finally:
        rclpy.shutdown(context=context)
        for graph in graphs.values():
            graph.stop()
    from rl_replay.bag_io import read_bag_arrays
    for car, steps in STEPS.items():
        history = json.loads((tmp_path / car / 'agent_history.json').read_text())
        assert len(history) == 2
        assert all(row['steps'] <= steps for row in history), history
        arrays = read_bag_arrays(tmp_path / car / 'bags' / f'{car}_trial')
        assert len(arrays['reward']) == sum(row['steps'] for row in history)
        assert arrays['step_id'].max() < steps
    assert {n for _, _, n in NODES} >= {'rl_env', 'rl_agent', 'rl_replay'}
