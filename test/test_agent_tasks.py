# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The agent node checks its task at start and carries pixels end to end (real rclpy, DDS).

- A checkpoint whose observation differs from the task's, and a D0 bag of other dimensions,
  are refused at start with a message naming both sides, and nothing is written.
- A camera task (``toy_pixels``, registered from rl_core's test fixture): observations with
  mono8 images get actions; transitions with images fill D_online's uint8 pixels; the
  training phase after the episode runs SAC updates on pixel batches (D_online + pixel D0).
"""

import os
import pathlib
import subprocess
import sys
import threading
import time

from graph_harness import wait_for, write_untrained_pi0
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
msgs = pytest.importorskip('rl_interfaces.msg')

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIXTURE = ROOT / 'src' / 'rl_core' / 'test' / 'fixtures' / 'toy_robot'


def run_agent(tmp_path, *params, domain=0, pythonpath=None):
    """Start the agent node process with ``-p`` parameters; return it (running)."""
    from rl_experiments.sim_to_online import executable
    env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST',
               ROS_DOMAIN_ID=str(domain), PYTHONUNBUFFERED='1')
    if pythonpath:
        env['PYTHONPATH'] = f"{pythonpath}{os.pathsep}{env.get('PYTHONPATH', '')}"
    args = [executable('rl_agent', 'agent_node'), '--ros-args']
    for p in params:
        args += ['-p', p]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=tmp_path)


def test_checkpoint_of_another_shape_is_refused_naming_both_sides(tmp_path):
    from rl_agent.sac import SAC, SACConfig
    SAC(SACConfig(obs_dim=12, action_dim=2, critic_width=16, critic_blocks=1)).save(
        str(tmp_path / 'small.pt'), extra={'task': 'racecar_parking', 'task_config': {}})
    online = tmp_path / 'online' / 'agent.pt'
    proc = run_agent(tmp_path, f'task.checkpoint:={tmp_path}/small.pt',
                     f'agent.online_checkpoint:={online}', domain=120 + os.getpid() % 20)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, out
    assert 'checkpoint' in out and 'observation (state 12) differs from task ' \
        "racecar_parking's observation (state 45)" in out
    assert not online.parent.exists()  # nothing written


def test_d0_bag_of_other_dimensions_is_refused(tmp_path):
    import torch
    from rl_replay.bag_io import write_bag
    from rl_replay.buffer import ReplayBuffer
    write_untrained_pi0(tmp_path, 'd0_ok')
    d0 = ReplayBuffer(10, 7, 2)
    d0.add_batch(torch.zeros(10, 7), torch.zeros(10, 2), torch.zeros(10), torch.zeros(10, 7),
                 torch.zeros(10), torch.zeros(10))
    write_bag(tmp_path / 'd0_other', d0)
    online = tmp_path / 'online' / 'agent.pt'
    proc = run_agent(tmp_path, f'task.checkpoint:={tmp_path}/checkpoint.pt',
                     f'agent.online_checkpoint:={online}',
                     f"agent.d0_bags:=['{tmp_path}/d0_other']", domain=120 + os.getpid() % 20)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, out
    assert 'D0 bags' in out and 'observation (state 7) differs from task racecar_parking' in out
    assert not online.parent.exists()


def test_unknown_task_is_refused(tmp_path):
    write_untrained_pi0(tmp_path, 'd0')
    proc = run_agent(tmp_path, 'task.name:=moon_rover',
                     f'task.checkpoint:={tmp_path}/checkpoint.pt',
                     domain=120 + os.getpid() % 20)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "task name 'moon_rover' (parameter) differs from the checkpoint's task " \
        "'racecar_parking'" in out


def pixel_pi0(folder: pathlib.Path):
    """An untrained toy_pixels agent with a small conv encoder, and a pixel D0 bag."""
    import torch
    sys.path.insert(0, str(FIXTURE))
    try:
        from rl_agent.sac import SAC, SACConfig
        from rl_core.run_info import resolve_task
        from rl_replay.bag_io import write_bag
        from rl_replay.buffer import ReplayBuffer
        task, _ = resolve_task('toy_pixels')
    finally:
        sys.path.remove(str(FIXTURE))
    SAC(SACConfig(obs_dim=1, action_dim=1, pixel_shape=(1, 8, 8), encoder='conv',
                  encoder_channels=(4,), encoder_feature_dim=8, critic_type='mlp',
                  critic_hidden=(16,), actor_hidden=(16,))).save(
        str(folder / 'pixels.pt'), extra=task.to_run_info())
    n = 64
    g = torch.Generator().manual_seed(0)
    d0 = ReplayBuffer(n, 1, 1, pixel_shape=(1, 8, 8))
    pix = torch.randint(0, 256, (n, 1, 8, 8), generator=g, dtype=torch.uint8)
    d0.add_batch(torch.zeros(n, 1), torch.rand(n, 1, generator=g) * 2 - 1, torch.randn(n),
                 torch.zeros(n, 1), torch.zeros(n), torch.zeros(n), pixels=pix, next_pixels=pix)
    write_bag(folder / 'd0_pixels', d0, metadata=task.to_run_info())


def test_pixels_flow_from_messages_to_sac_updates(tmp_path):
    from rl_core.ros_messages import images_from_pixels
    pixel_pi0(tmp_path)
    domain = 140 + os.getpid() % 20
    online = tmp_path / 'online' / 'agent.pt'
    proc = run_agent(tmp_path, f'task.checkpoint:={tmp_path}/pixels.pt',
                     f'agent.online_checkpoint:={online}',
                     f"agent.d0_bags:=['{tmp_path}/d0_pixels']", 'agent.max_episodes:=1',
                     'online.warm_start_episodes:=0', 'online.min_replay:=4',
                     'online.utd:=2.0', 'online.batch_size:=8', domain=domain,
                     pythonpath=str(FIXTURE))
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    node = rclpy.create_node('pixel_probe', context=context)
    actions = []
    node.create_subscription(msgs.Action, 'rl/action', actions.append, 10)
    obs_pub = node.create_publisher(msgs.Observation, 'rl/observation', 10)
    tr_pub = node.create_publisher(msgs.Transition, 'rl/transitions', 100)
    ev_pub = node.create_publisher(msgs.EpisodeEvent, 'rl/episode_events', 10)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    thread = threading.Thread(target=executor.spin, daemon=True)
    thread.start()
    try:
        wait_for(lambda: obs_pub.get_subscription_count() > 0
                 and tr_pub.get_subscription_count() > 0, 60, what='agent subscriptions')
        rng = np.random.default_rng(0)
        frames = [rng.integers(0, 256, (1, 8, 8), dtype=np.uint8) for _ in range(7)]
        # Observations with images get actions (a wrong image size gets none, logged).
        for i in range(3):
            msg = msgs.Observation()
            msg.header.stamp.sec = i + 1
            msg.state = [0.0]
            msg.images = images_from_pixels(frames[i])
            obs_pub.publish(msg)
        wait_for(lambda: len(actions) >= 3, 30, what='actions for pixel observations')
        bad = msgs.Observation()
        bad.header.stamp.sec = 99
        bad.state = [0.0]
        bad.images = images_from_pixels(np.zeros((1, 4, 4), np.uint8))
        obs_pub.publish(bad)
        for i in range(6):
            t = msgs.Transition()
            t.trial_id, t.episode_id, t.step_id = 'pix', 1, i
            t.observation.state, t.next_observation.state = [0.0], [0.0]
            t.observation.images = images_from_pixels(frames[i])
            t.next_observation.images = images_from_pixels(frames[i + 1])
            t.action, t.reward = [0.5], -1.0
            tr_pub.publish(t)
        time.sleep(1.0)
        end = msgs.EpisodeEvent()
        end.trial_id, end.episode_id, end.event, end.reason = 'pix', 1, 1, 'time_limit'
        end.num_steps = 6
        ev_pub.publish(end)
        out, _ = proc.communicate(timeout=120)
    finally:
        executor.shutdown()
        rclpy.shutdown(context=context)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert all(a.header.stamp.sec in (1, 2, 3) for a in actions), 'answered a bad image'
    assert 'observation refused: image of 4x4, the task expects 8x8' in out
    from rl_agent.sac import SAC
    state = SAC.read_checkpoint(str(online))
    stored = state['online']['buffer']['pixels'][:6].numpy()
    assert np.array_equal(stored, np.stack(frames[:6]))
    assert np.array_equal(state['online']['buffer']['next_pixels'][:6].numpy(),
                          np.stack(frames[1:7]))
    assert state['critic_updates'] == 12  # UTD 2 x 6 steps, on pixel batches
    assert 'encoder' in state
