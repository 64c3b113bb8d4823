# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Go1 graph end to end: sim bridge (SDK level) -> driver -> env -> agent -> replay.

Real processes over DDS on loopback; the simulated Go1 answers the real legacy UDP SDK on
127.0.0.1; each episode starts with a stand-up through the driver. A few short episodes
(task override ``episode_steps``), with the agent training between them, and the bags.
"""

import json
import os
import pathlib

from go1_rl_env.legacy_udp import free_udp_port
from graph_harness import Graph, params_with, wait_for
import pytest

rclpy = pytest.importorskip('rclpy')
pytest.importorskip('unitree_legged_sdk.robot_interface')

ROOT = pathlib.Path(__file__).resolve().parents[1]
PARAMS = ROOT / 'src' / 'go1_rl_env' / 'config' / 'go1.yaml'
STEPS = 40
NODES = [('sim_bridge', 'sim_bridge_node', 'sim_bridge'),
         ('go1_rl_env', 'go1_driver_node', 'go1_driver'),
         ('rl_env', 'env_node', 'rl_env'), ('rl_agent', 'agent_node', 'rl_agent'),
         ('rl_replay', 'replay_node', 'rl_replay')]


def write_untrained_go1(folder: pathlib.Path):
    """Save a small untrained Go1 agent (checkpoint with the task) and a D0 bag."""
    import torch
    from rl_agent.sac import SAC, SACConfig
    from rl_core.run_info import resolve_task
    from rl_replay.bag_io import write_bag
    from rl_replay.buffer import ReplayBuffer
    task, _ = resolve_task('go1_joystick')
    SAC(SACConfig(obs_dim=48, action_dim=12, actor_hidden=(32, 32), critic_width=32,
                  critic_blocks=1, actor_update_period=1)).save(
        str(folder / 'checkpoint.pt'), extra=task.to_run_info())
    g = torch.Generator().manual_seed(0)
    n = 200
    d0 = ReplayBuffer(n, 48, 12)
    d0.add_batch(torch.randn(n, 48, generator=g), torch.rand(n, 12, generator=g) * 2 - 1,
                 torch.rand(n, generator=g), torch.randn(n, 48, generator=g),
                 torch.zeros(n), torch.zeros(n))
    write_bag(folder / 'd0', d0, metadata=task.to_run_info())
    return folder


def test_go1_graph_runs_episodes_through_the_sdk_level_bridge(tmp_path):
    """Three short episodes: stand-up, policy steps, training, bags."""
    pi0 = write_untrained_go1(tmp_path)
    domain = 50 + os.getpid() % 40
    port = free_udp_port()
    overrides = {
        '/**': {'task.checkpoint': str(pi0 / 'checkpoint.pt'),
                'task.overrides': json.dumps({'episode_steps': STEPS})},
        'sim_bridge': {'go1.port': port},
        'go1_driver': {'driver.robot_port': port, 'driver.local_port': free_udp_port(),
                       'driver.stand_up_s': 1.0,
                       # processes share 2 loaded cores in CI: wider than on the robot
                       'driver.command_timeout_s': 0.1, 'driver.state_timeout_s': 0.5},
        'rl_env': {'env.action_timeout_s': 3.0, 'env.state_timeout_s': 1.0,
                   'adapter.stand_up_wait_s': 1.5},
        'rl_agent': {'agent.online_checkpoint': str(tmp_path / 'online' / 'agent.pt'),
                     'agent.d0_bags': [str(pi0 / 'd0')], 'agent.max_episodes': 3,
                     'online.utd': 0.25, 'online.min_replay': 20, 'online.batch_size': 32},
        'rl_replay': {'replay.bag_root': str(tmp_path / 'bags')},
    }
    graph = Graph(tmp_path, params_with(overrides, tmp_path, source=PARAMS), domain)
    try:
        for package, exe, name in NODES:
            graph.start(package, exe, name)
        hist = tmp_path / 'online' / 'agent_history.json'
        wait_for(lambda: hist.exists() and len(json.loads(hist.read_text())) >= 3, 240,
                 what='three Go1 episodes in the agent history\n' + graph.log('rl_env')[-3000:])
        episodes = json.loads(hist.read_text())
        reasons = [ep['reason'] for ep in episodes[:3]]
        # an untrained policy either lasts the STEPS or breaks one of the task's safety
        # limits (flip, joint range, joint speed, torque), which the env node aborts with
        # that reason (and the driver damps)
        safety = ('flipped', 'joint_limit', 'joint_velocity', 'torque_limit')
        assert all(r == 'time_limit' or r.startswith(safety) for r in reasons), reasons
        if any(r.startswith(safety) for r in reasons):
            assert 'motors in damping mode: estop' in graph.log('go1_driver')
        # (an episode may be aborted at its first step when the robot fell during the
        # stand-up of a loaded machine)
        assert all(0 <= ep['steps'] <= STEPS for ep in episodes[:3])
        assert any(ep['steps'] >= 1 for ep in episodes[:3])
        assert 'backend go1_udp' in graph.log('go1_driver')
        # the recorder wrote every transition of the finished episodes to MCAP
        from rl_replay.bag_io import read_bag_arrays
        arrays = read_bag_arrays(tmp_path / 'bags' / 'go1_trial')
        assert len(arrays['reward']) >= sum(ep['steps'] for ep in episodes[:3])
        assert arrays['obs'].shape[1] == 48
    finally:
        graph.stop()
