# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The agent answers every observation within the env's watchdog budget, even mid-training.

Only the agent node runs (as a process, via the harness); the test node plays the env:
it drives an episode at 30 Hz (observation, wait for the action, transition), ends it with
an EpisodeEvent, and keeps sending observations at 30 Hz while the agent runs its training
phase, writes its checkpoint and tidies up afterwards. Every observation must be answered
within ``env.action_timeout_s`` of the car's racecar.yaml (0.1 s), the budget after which the
env's watchdog aborts an episode. What is checked is behaviour (no answer late or missing),
not speed: the budget is 10-20x the normal latency, and the phase has to overlap the
observations for the test to count (asserted too).
"""

import os
import statistics
import threading
import time

from graph_harness import Graph, PARAMS_FILE, params_with, wait_for, write_untrained_pi0
import pytest
import yaml

rclpy = pytest.importorskip('rclpy')
msgs = pytest.importorskip('rl_interfaces.msg')

HZ = 30.0
EPISODE_STEPS = 100     # transitions of the episode before the training phase
UTD = 20.0              # 2000 updates: seconds of training on a small network
AFTER_CHECKPOINT = 45   # observations after the checkpoint (1.5 s: covers the clean-up)
MIN_DURING = 30         # the phase must overlap at least this many observations
BUDGET_S = yaml.safe_load(PARAMS_FILE.read_text())[
    '/**/rl_env']['ros__parameters']['env']['action_timeout_s']


class FakeEnv:
    """Test node speaking the env's side of the RL topics."""

    def __init__(self, domain: int):
        from rclpy.qos import QoSProfile
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node('fake_env', context=self.context)
        self.obs_pub = self.node.create_publisher(msgs.Observation, '/rl/observation', 10)
        self.transition_pub = self.node.create_publisher(msgs.Transition, '/rl/transitions',
                                                         QoSProfile(depth=1000))
        self.event_pub = self.node.create_publisher(msgs.EpisodeEvent, '/rl/episode_events',
                                                    10)
        self.sent = {}       # stamp -> monotonic send time
        self.latency = {}    # stamp -> seconds until the action arrived
        self.answered = threading.Condition()
        self.node.create_subscription(msgs.Action, '/rl/action', self.on_action, 100)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def on_action(self, msg):
        now = time.monotonic()
        key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        with self.answered:
            if key in self.sent and key not in self.latency:
                self.latency[key] = now - self.sent[key]
                self.answered.notify_all()

    def matched(self) -> bool:
        return (self.obs_pub.get_subscription_count() > 0
                and self.transition_pub.get_subscription_count() > 0
                and self.event_pub.get_subscription_count() > 0
                and self.node.count_publishers('/rl/action') > 0)

    def observe(self, state):
        """Publish one observation; returns its stamp key."""
        msg = msgs.Observation()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.state = [float(v) for v in state]
        key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        with self.answered:
            self.sent[key] = time.monotonic()
        self.obs_pub.publish(msg)
        return key

    def wait_answer(self, key, timeout: float) -> bool:
        with self.answered:
            return self.answered.wait_for(lambda: key in self.latency, timeout)

    def transition(self, step, state, next_state):
        msg = msgs.Transition()
        msg.trial_id, msg.episode_id, msg.step_id = 'latency', 1, step
        msg.observation.state = [float(v) for v in state]
        msg.next_observation.state = [float(v) for v in next_state]
        msg.action = [0.0, 0.0]
        msg.reward = 0.0
        self.transition_pub.publish(msg)

    def end_episode(self, steps):
        msg = msgs.EpisodeEvent()
        msg.trial_id, msg.episode_id = 'latency', 1
        msg.event, msg.reason, msg.num_steps = msgs.EpisodeEvent.ENDED, 'time_limit', steps
        self.event_pub.publish(msg)

    def close(self):
        # Join the spinning thread before the context goes: a daemon thread still inside
        # the wait set at interpreter exit aborts the process ('terminate called without an
        # active exception').
        self.executor.shutdown()
        self.thread.join(timeout=10)
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def state(step):
    return [((step * 7 + i) % 11) / 11.0 - 0.5 for i in range(45)]


def test_actions_within_watchdog_budget_during_training_and_checkpoint(tmp_path):
    pi0 = write_untrained_pi0(tmp_path, 'd0', actor_update_period=1)
    online = tmp_path / 'online' / 'agent.pt'
    history = tmp_path / 'online' / 'agent_history.json'
    overrides = {'/**': {'task.checkpoint': str(pi0 / 'checkpoint.pt')}, 'rl_agent': {
        'agent.online_checkpoint': str(online),
        'agent.d0_bags': [str(pi0 / 'd0')], 'agent.max_episodes': 0,
        'online.utd': UTD, 'online.min_replay': EPISODE_STEPS, 'online.batch_size': 64,
        'online.warm_start_episodes': 1}}
    domain = int(os.environ['ROS_DOMAIN_ID'])
    graph = Graph(tmp_path, params_with(overrides, tmp_path), domain)
    env = FakeEnv(domain)
    period = 1.0 / HZ
    phases = {}
    try:
        graph.start('rl_agent', 'agent_node', 'rl_agent')
        wait_for(lambda: 'pi0 from' in graph.log('rl_agent'), 60, what='agent up')
        wait_for(env.matched, 30, what='topics matched')
        time.sleep(1.0)  # let discovery settle (a fresh participant stalls deliveries)
        # An episode, as the env runs it: observation, the action, the transition.
        tick = time.monotonic()
        for step in range(EPISODE_STEPS):
            key = env.observe(state(step))
            env.wait_answer(key, BUDGET_S)
            env.transition(step + 1, state(step), state(step + 1))
            tick += period
            time.sleep(max(0.0, tick - time.monotonic()))
        phases['episode'] = len(env.sent)
        time.sleep(0.5)  # every transition stored before the episode's end is
        env.end_episode(EPISODE_STEPS)
        # The training phase and the checkpoint: observations keep coming at 30 Hz.
        deadline = time.monotonic() + 300
        after = None
        tick = time.monotonic()
        step = EPISODE_STEPS
        while after is None or len(env.sent) < after + AFTER_CHECKPOINT:
            assert time.monotonic() < deadline, 'no checkpoint after 300 s: ' + graph.log(
                'rl_agent')[-2000:]
            env.observe(state(step))
            step += 1
            if after is None and history.exists():
                after = len(env.sent)
            tick += period
            time.sleep(max(0.0, tick - time.monotonic()))
        time.sleep(2 * BUDGET_S)
        phases['during'] = after - phases['episode']
    finally:
        graph.stop()
        env.close()
    log = graph.log('rl_agent')
    assert 'checkpoint' in log and 'trained 2000 updates' in log, log[-2000:]
    # The phase really overlapped the observations stream.
    assert phases['during'] >= MIN_DURING, (phases, log[-1000:])
    late = {k: v for k, v in env.latency.items() if v > BUDGET_S}
    missing = [k for k in env.sent if k not in env.latency]
    lat = sorted(env.latency.values())
    stats = (f'{len(env.sent)} observations ({phases["during"]} during training and '
             f'checkpoint): p50 {statistics.median(lat) * 1e3:.1f} ms, max '
             f'{lat[-1] * 1e3:.1f} ms, {len(late)} over {BUDGET_S} s, {len(missing)} '
             f'unanswered')
    print(stats)
    assert not late and not missing, stats
