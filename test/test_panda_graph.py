# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Panda graph end to end: sim bridge (franka_ros2 + RealSense names) -> ArUco node ->
env node (Panda adapter) -> agent -> recorder, as real processes over DDS on loopback.

The simulated robot serves the franka_msgs gripper actions and the camera; the adapter's
bring-up check passes (the simulated controller follows), each episode resets through error
recovery, ``sim/reset`` (the cube put back), gripper open and home. Short episodes (task
override), an untrained vision agent training between them; the bag holds the pixels. Then
the faults: a controller that ignores equilibrium poses is refused at bring-up, a failing
grasp aborts the episode with its reason.
"""

import json
import os
import pathlib

from graph_harness import call_service, Graph, params_with, wait_for
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
pytest.importorskip('franka_msgs.action')

ROOT = pathlib.Path(__file__).resolve().parents[1]
PARAMS = ROOT / 'src' / 'panda_rl_env' / 'config' / 'panda.yaml'
STEPS = 30
NODES = [('sim_bridge', 'sim_bridge_node', 'sim_bridge'),
         ('panda_rl_env', 'cube_pose_node', 'cube_pose'),
         ('rl_env', 'env_node', 'rl_env'), ('rl_agent', 'agent_node', 'rl_agent'),
         ('rl_replay', 'replay_node', 'rl_replay')]


def write_untrained_panda(folder: pathlib.Path):
    """Save a small untrained vision agent (checkpoint with the task) and a pixel D0 bag."""
    import torch
    from rl_agent.sac import SAC, SACConfig
    from rl_core.run_info import resolve_task
    from rl_replay.bag_io import write_bag
    from rl_replay.buffer import ReplayBuffer
    task, _ = resolve_task('panda_pick')
    SAC(SACConfig(obs_dim=10, action_dim=3, actor_hidden=(32, 32), critic_width=32,
                  critic_blocks=1, actor_update_period=1, pixel_shape=(1, 64, 64),
                  encoder='conv', encoder_channels=(8, 8), encoder_feature_dim=16,
                  drq_pad=2)).save(str(folder / 'checkpoint.pt'), extra=task.to_run_info())
    g = torch.Generator().manual_seed(0)
    n = 100
    d0 = ReplayBuffer(n, 10, 3, pixel_shape=(1, 64, 64))
    px = torch.randint(0, 255, (n, 1, 64, 64), generator=g, dtype=torch.uint8)
    d0.add_batch(torch.randn(n, 10, generator=g), torch.rand(n, 3, generator=g) * 2 - 1,
                 torch.rand(n, generator=g), torch.randn(n, 10, generator=g),
                 torch.zeros(n), torch.zeros(n), pixels=px, next_pixels=px)
    write_bag(folder / 'd0', d0, metadata=task.to_run_info())
    return folder


def overrides_for(tmp_path, pi0, **extra):
    out = {
        '/**': {'task.checkpoint': str(pi0 / 'checkpoint.pt'),
                'task.overrides': json.dumps({'episode_steps': STEPS})},
        # processes share 2 loaded cores in CI: wider timeouts than on the robot
        'rl_env': {'env.action_timeout_s': 3.0, 'env.state_timeout_s': 1.5,
                   'env.reset_timeout_s': 60.0, 'adapter.cube_lost_s': 5.0,
                   'adapter.follow_timeout_s': 5.0},
        'rl_agent': {'agent.online_checkpoint': str(tmp_path / 'online' / 'agent.pt'),
                     'agent.d0_bags': [str(pi0 / 'd0')], 'agent.max_episodes': 2,
                     'online.utd': 0.1, 'online.min_replay': 20, 'online.batch_size': 16},
        'rl_replay': {'replay.bag_root': str(tmp_path / 'bags')},
    }
    for node, values in extra.items():
        out.setdefault(node, {}).update(values)
    return out


def test_panda_graph_runs_vision_episodes_through_the_simulated_franka(tmp_path):
    pi0 = write_untrained_panda(tmp_path)
    domain = 130 + os.getpid() % 40
    graph = Graph(tmp_path, params_with(overrides_for(tmp_path, pi0), tmp_path,
                                        source=PARAMS), domain)
    try:
        for package, exe, name in NODES:
            graph.start(package, exe, name)
        hist = tmp_path / 'online' / 'agent_history.json'
        wait_for(lambda: hist.exists() and len(json.loads(hist.read_text())) >= 2, 400,
                 what='two Panda episodes in the agent history\n' + graph.log('rl_env')[-3000:])
        episodes = json.loads(hist.read_text())
        print([(ep['reason'], ep['steps'], ep.get('return')) for ep in episodes])
        env_log = graph.log('rl_env')
        assert 'bring-up: the tip followed' in env_log
        # an untrained policy either lasts the STEPS or hits a safety limit (named)
        for ep in episodes[:2]:
            assert ep['reason'] == 'time_limit' or ep['reason'].startswith(
                ('workspace', 'tip_speed')), ep
            assert 1 <= ep['steps'] <= STEPS
        assert 'cube in view: markers' in graph.log('cube_pose')
        assert 'cube put back' in graph.log('rl_env') or episodes[0]['steps'] >= 1
        from rl_replay.bag_io import read_bag_arrays
        arrays = read_bag_arrays(tmp_path / 'bags' / 'panda_trial')
        assert len(arrays['reward']) >= sum(ep['steps'] for ep in episodes[:2])
        assert arrays['obs'].shape[1] == 10
        px = arrays['pixels']
        assert px.dtype == np.uint8 and px.shape[1:] == (1, 64, 64)
        assert px.std() > 5.0  # camera pictures, not blank frames
    finally:
        graph.stop()


class Probe:
    """Starts episodes and answers observations with one fixed action."""

    def __init__(self, domain, action):
        from rl_core import ros_qos
        from rl_interfaces import msg as msgs
        from std_srvs.srv import Trigger
        import threading
        self.msgs, self.Trigger = msgs, Trigger
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node('panda_probe', context=self.context)
        self.client = self.node.create_client(Trigger, 'rl/start_episode')
        self.events = []
        pub = self.node.create_publisher(msgs.Action, 'rl/action', ros_qos.STEP)

        def on_obs(msg):
            out = msgs.Action()
            out.header = msg.header
            out.action = list(action)
            pub.publish(out)
        self.node.create_subscription(msgs.Observation, 'rl/observation', on_obs, ros_qos.STEP)
        self.node.create_subscription(msgs.EpisodeEvent, 'rl/episode_events',
                                      self.events.append, ros_qos.LATCHED)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        threading.Thread(target=self.executor.spin, daemon=True).start()

    def start(self) -> str:
        """Ask for an episode; return the answer."""
        return call_service(self.client, self.Trigger.Request(), 'rl/start_episode').message

    def ends(self):
        """Reasons of the ended/aborted episodes so far."""
        return [e.reason for e in self.events if e.event != self.msgs.EpisodeEvent.STARTED]

    def close(self):
        self.executor.shutdown()
        rclpy.shutdown(context=self.context)


def test_panda_faults_refuse_bring_up_and_abort_a_failing_grasp(tmp_path):
    pi0 = write_untrained_panda(tmp_path)
    # 1. a controller that ignores equilibrium poses (franka_ros2 jazzy's stock example)
    domain = 170 + os.getpid() % 40
    no_recorder = {'env.recorder_node': ''}
    params = params_with(overrides_for(tmp_path, pi0, sim_bridge={
        'panda.controller_follows': False}, rl_env=no_recorder), tmp_path, source=PARAMS)
    graph = Graph(tmp_path, params, domain)
    probe = Probe(domain, [0.0, 0.0, 1.0])
    answers = []
    try:
        for package, exe, name in NODES[:3]:
            graph.start(package, exe, name)
        assert probe.client.wait_for_service(timeout_sec=60)

        def refused():
            answers.append(probe.start())
            return answers[-1].startswith('bring-up failed')
        try:
            wait_for(refused, 90, step=1.0, what='the bring-up refusal')
        finally:
            print('answers:', sorted(set(answers)))
        print(answers[-1])
        assert 'ignores it' in answers[-1] and 'equilibrium_pose' in answers[-1]
        assert not probe.ends()  # no episode ever started
    finally:
        probe.close()
        graph.stop()
    # 2. every grasp fails: the episode is aborted with the gripper's reason, the arm held
    domain += 1
    (tmp_path / 'g').mkdir()
    params = params_with(overrides_for(tmp_path, pi0, sim_bridge={
        'panda.grasp_fails': True}, rl_env=no_recorder), tmp_path / 'g', source=PARAMS)
    graph = Graph(tmp_path / 'g', params, domain)
    probe = Probe(domain, [0.0, 0.0, 1.0])  # close the gripper at once
    try:
        for package, exe, name in NODES[:3]:
            graph.start(package, exe, name)
        assert probe.client.wait_for_service(timeout_sec=60)
        wait_for(lambda: probe.start().startswith('episode'), 90, step=1.0,
                 what='an episode to start')
        wait_for(lambda: probe.ends(), 120, what='the episode to end')
        reason = probe.ends()[0]
        print(reason)
        assert reason.startswith('gripper_failed: grasp failed: simulated gripper fault')
        assert 'robot commanded to stop' in graph.log('rl_env')
    finally:
        probe.close()
        graph.stop()


def test_sim_to_sim_cube_pose_from_the_bridge_camera_matches_the_truth(tmp_path):
    """Bridge camera -> ArUco node over DDS: the estimate against the simulator's truth."""
    import threading
    from geometry_msgs.msg import PoseStamped
    from rl_core import ros_qos
    pi0 = write_untrained_panda(tmp_path)
    domain = 90 + os.getpid() % 30
    params = params_with(overrides_for(tmp_path, pi0, sim_bridge={
        'panda.variant': 'nominal', 'panda.camera_hz': 10.0}), tmp_path, source=PARAMS)
    graph = Graph(tmp_path, params, domain)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    node = rclpy.create_node('cube_probe', context=context)
    seen, truth = [], []
    node.create_subscription(PoseStamped, 'cube_pose', seen.append, ros_qos.SENSOR)
    node.create_subscription(PoseStamped, 'sim/cube_truth', truth.append, ros_qos.SENSOR)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    try:
        graph.start('sim_bridge', 'sim_bridge_node', 'sim_bridge')
        graph.start('panda_rl_env', 'cube_pose_node', 'cube_pose')

        def matched_errors():
            # Both streams are best-effort sensor data: on a loaded machine a frame's estimate or
            # its truth can be dropped, so wait for pairs matched by stamp, not for counts.
            true = {(t.header.stamp.sec, t.header.stamp.nanosec): t.pose.position
                    for t in list(truth)}
            out = []
            for est in list(seen):
                key = (est.header.stamp.sec, est.header.stamp.nanosec)
                if key in true:
                    a, b = est.pose.position, true[key]
                    out.append(np.linalg.norm([a.x - b.x, a.y - b.y, a.z - b.z]))
            return out
        wait_for(lambda: len(matched_errors()) >= 3, 120,
                 what='three cube poses from the ArUco node matched with the truth by stamp')
        errors = matched_errors()
        print(f'{len(errors)} frames, cube position error mean {np.mean(errors) * 1000:.1f} '
              f'mm, max {np.max(errors) * 1000:.1f} mm')
        assert len(errors) >= 3 and max(errors) < 0.015
        assert seen[-1].header.frame_id == 'fr3_link0'
    finally:
        executor.shutdown()
        rclpy.shutdown(context=context)
        graph.stop()
