# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Observation-to-action latency through the ROS 2 graph, and the agent node's update rate.

Starts the race-car graph (sim bridge, driver, env, agent, replay) with DDS on loopback,
runs ``--episodes`` episodes of 250 steps, and measures on a listener node the time from
each ``/rl/observation`` stamp to the arrival of the ``/rl/action`` answering it (p50/p99).
The agent's between-episode training phase (UTD ``--utd`` x 250 steps) is timed by the
agent itself (``train_s`` in its history); then the same phase runs again in this plain
process (no ROS, the learner state the node saved) and the node / single-process ratio is
printed. The sim bridge runs the car variant ``--variant`` (default ``nominal``: the
kinematic car pi0 was trained on, so that every episode lasts its full 250 steps; pass
``--variant real`` for the "real" car of the sim-to-sim experiment).

    python bench/ros_latency_bench.py --checkpoint runs/pretrain_racecar/checkpoint.pt
"""

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import threading

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'test'))

from graph_harness import Graph, params_with  # noqa: E402
import rclpy  # noqa: E402
from rl_interfaces.msg import Action, Observation  # noqa: E402


def main(argv=None):
    """Run the graph and print the latency percentiles and training-phase time."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--checkpoint', default='runs/pretrain_racecar/checkpoint.pt')
    parser.add_argument('--d0', default='runs/pretrain_racecar/d0_bag')
    parser.add_argument('--episodes', type=int, default=2)
    parser.add_argument('--utd', type=float, default=10.0)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--variant', default='nominal', choices=['nominal', 'real'])
    parser.add_argument('--executor', default='events', choices=['events', 'single'],
                        help="the nodes' executor (rl_core.ros_executor: SIM2ONLINE_EXECUTOR)")
    args = parser.parse_args(argv)
    os.environ['SIM2ONLINE_EXECUTOR'] = args.executor  # inherited by the graph's processes
    folder = pathlib.Path(tempfile.mkdtemp(prefix='latency_'))
    # The caller's ROS_DOMAIN_ID when set (shared machines hand out domains), else per pid.
    domain = int(os.environ.get('ROS_DOMAIN_ID') or 1 + os.getpid() % 100)
    overrides = {'/**': {'task.checkpoint': str(pathlib.Path(args.checkpoint).resolve())},
                 'rl_agent': {
        'agent.d0_bags': [str(pathlib.Path(args.d0).resolve())],
        'agent.online_checkpoint': str(folder / 'agent.pt'), 'agent.device': args.device,
        'agent.max_episodes': args.episodes, 'online.utd': args.utd,
        'online.warm_start_episodes': 1},
        'rl_replay': {'replay.bag_root': str(folder / 'bags')}}
    overrides['sim_bridge'] = {'racecar.variant': args.variant}
    graph = Graph(folder, params_with(overrides, folder), domain)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    node = rclpy.create_node('latency_probe', context=context)
    latencies = []

    def on_action(msg):
        sent = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        latencies.append(node.get_clock().now().nanoseconds * 1e-9 - sent)
    node.create_subscription(Action, '/rl/action', on_action, 100)
    node.create_subscription(Observation, '/rl/observation', lambda _: None, 100)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spin_thread = threading.Thread(target=executor.spin, daemon=True)
    spin_thread.start()
    try:
        graph.start_all()
        graph.wait_exit('rl_agent', timeout=3600)
    finally:
        graph.stop()
        # executor.shutdown() only asks spin() to stop: the thread may still be inside the
        # wait set. Join it before the context goes away, or the interpreter finalises while
        # that daemon thread is in C++ and the process aborts with 'terminate called without
        # an active exception'.
        executor.shutdown()
        spin_thread.join(timeout=10)
        node.destroy_node()
        rclpy.shutdown(context=context)
    history = json.loads((folder / 'agent_history.json').read_text())
    lat = sorted(latencies)
    p50 = statistics.median(lat) * 1e3
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1e3
    kinds = {line.rsplit('spinning on the ', 1)[1].split()[0]
             for log in folder.glob('*.log') for line in log.read_text().splitlines()
             if 'spinning on the ' in line}
    print(f"executor asked for: {args.executor}; the nodes spun on: {', '.join(sorted(kinds))}")
    print(f'observation -> action latency over {len(lat)} steps: p50 {p50:.2f} ms, '
          f'p99 {p99:.2f} ms, max {lat[-1] * 1e3:.1f} ms, '
          f'{sum(x > 0.05 for x in lat)} over 50 ms, {sum(x > 0.1 for x in lat)} over 100 ms')
    log = (folder / 'rl_env.log').read_text()
    print(f"watchdog aborts: {log.count('aborted: watchdog')}; load (1 min) at the end "
          f'{os.getloadavg()[0]:.2f}')
    for row in history:
        print(f"episode {row['episode']}: {row.get('updates', 0)} updates in "
              f"{row.get('train_s', 0):.1f} s")
    trained = [r for r in history if r.get('updates')]
    if trained:
        r = trained[-1]
        node_rate = r['updates'] / r['train_s']
        print(f"training phase in the agent node (UTD {args.utd:g} x {r['steps']} steps = "
              f"{r['updates']} updates, {args.device}): {r['train_s']:.1f} s "
              f'({node_rate:.1f} updates/s)')
        single = single_process_rate(folder / 'agent.pt', args.d0, r['updates'], args.device)
        print(f'the same phase in a plain process (same checkpoint, D0, D_online, config, '
              f'one torch thread): {single:.1f} updates/s; node / single-process = '
              f'{node_rate / single:.2f}')
    return 0


def single_process_rate(online_checkpoint, d0, updates, device):
    """
    Time the same training phase without ROS: the reference for the agent node's rate.

    Rebuilds the learner the node ended with (its agent, D_online, counters and online
    config from the node's checkpoint; D0 from the same bag) and runs ``updates`` updates
    under the node's thread setting (one torch thread).
    """
    import time

    import torch
    from rl_agent.online import load_offline, OnlineConfig, OnlineLearner
    from rl_agent.sac import SAC
    from rl_core import config_spec
    torch.set_num_threads(1)
    state = SAC.read_checkpoint(str(online_checkpoint), device)
    config = config_spec.from_dict(OnlineConfig, json.loads(state['online']['config']))
    learner = OnlineLearner(SAC.load(str(online_checkpoint), device=device), config,
                            offline=load_offline([str(pathlib.Path(d0).resolve())], device))
    learner.restore(str(online_checkpoint))
    learner.episodes = max(learner.episodes, config.warm_start_episodes)
    steps = updates / config.utd
    learner.train_phase(steps=max(1, int(round(20 / config.utd))))  # warm-up, as the node's
    started = time.monotonic()                                     # first phase had one
    done = learner.train_phase(steps=steps)['updates']
    return done / (time.monotonic() - started)


if __name__ == '__main__':
    sys.exit(main())
