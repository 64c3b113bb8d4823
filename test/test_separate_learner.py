# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The learner as its own process (agent.role learner) beside an acting agent (role actor).

The car's graph runs with its agent as a pure actor; a second agent_node process trains from
rl/transitions while episodes run and publishes PolicyWeights over DDS on loopback. The
probe checks that weights arrive with rising versions while actions keep flowing, that the
actor acts with them, that a stale message is refused, and that after a SIGKILL of the
learner the actor goes on acting with its last weights and says so (log and /diagnostics);
restarted, the learner resumes from its checkpoint and the actor takes its weights again;
on SIGINT the learner writes its final checkpoint and exits cleanly.
"""

import copy
import json
import os
import signal
import threading
import time

from graph_harness import Graph, params_with, wait_for, write_untrained_pi0
import pytest
import yaml

rclpy = pytest.importorskip('rclpy')
msgs = pytest.importorskip('rl_interfaces.msg')

STEPS = 30


class Probe:
    """Records weights versions, actions and episode ends with their arrival times."""

    def __init__(self, domain):
        from diagnostic_msgs.msg import DiagnosticArray
        from rl_core import ros_qos
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node('learner_probe', context=self.context)
        self.versions, self.actions, self.ends, self.status = [], [], [], []
        self.node.create_subscription(msgs.PolicyWeights, 'rl/policy_weights',
                                      self.on_weights, ros_qos.WEIGHTS)
        self.node.create_subscription(msgs.Action, 'rl/action',
                                      lambda _: self.actions.append(time.monotonic()), 100)
        self.node.create_subscription(msgs.EpisodeEvent, 'rl/episode_events', self.on_event,
                                      ros_qos.STEP)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self.on_diagnostics,
                                      100)
        self.stale_pub = self.node.create_publisher(msgs.PolicyWeights, 'rl/policy_weights',
                                                    ros_qos.WEIGHTS)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def on_weights(self, msg):
        self.versions.append((time.monotonic(), msg.version, len(msg.tensors)))

    def on_event(self, msg):
        if msg.event != msgs.EpisodeEvent.STARTED:
            self.ends.append(time.monotonic())

    def on_diagnostics(self, msg):
        self.status += [(s.level, s.message) for s in msg.status if s.name == '/rl_agent']

    def close(self):
        self.executor.shutdown()
        self.thread.join(timeout=10)
        rclpy.shutdown(context=self.context)


def actor_history(tmp_path):
    path = tmp_path / 'online' / 'agent_actor_history.json'
    return json.loads(path.read_text()) if path.exists() else []


def test_separate_learner_feeds_the_actor_and_a_killed_one_leaves_it_acting(tmp_path):
    pi0 = tmp_path / 'pi0'
    pi0.mkdir()
    write_untrained_pi0(pi0, 'd0', actor_update_period=1)
    domain = 20 + os.getpid() % 30
    overrides = {
        '/**': {'task.checkpoint': str(pi0 / 'checkpoint.pt'),
                'task.overrides': json.dumps({'episode_steps': STEPS})},
        'rl_env': {'env.action_timeout_s': 3.0, 'env.state_timeout_s': 1.0},
        'rl_agent': {'agent.online_checkpoint': str(tmp_path / 'online' / 'agent.pt'),
                     'agent.d0_bags': [str(pi0 / 'd0')], 'agent.max_episodes': 0,
                     'agent.learner_timeout_s': 2.0, 'agent.weights_period_s': 0.5,
                     'agent.checkpoint_period_s': 2.0, 'online.utd': 1.0,
                     'online.min_replay': 10, 'online.batch_size': 32},
        'rl_replay': {'replay.bag_root': str(tmp_path / 'bags')},
    }
    params = params_with(overrides, tmp_path)
    data = yaml.safe_load(params.read_text())
    key = next(k for k in data if k.endswith('rl_agent'))
    data[key.replace('rl_agent', 'rl_learner')] = learner = copy.deepcopy(data[key])
    data[key]['ros__parameters'].setdefault('agent', {})['role'] = 'actor'
    learner['ros__parameters'].setdefault('agent', {})['role'] = 'learner'
    params.write_text(yaml.safe_dump(data))
    graph = Graph(tmp_path, params, domain)
    probe = Probe(domain)
    try:
        graph.start('rl_agent', 'agent_node', 'rl_learner')
        graph.start_all()
        # Weights arrive and their versions rise while episodes run.
        wait_for(lambda: len({v for _, v, _ in probe.versions if v > 0}) >= 4, 180,
                 what='four rising policy-weight versions')
        versions = [v for _, v, _ in probe.versions]
        assert versions == sorted(versions)
        assert all(n > 0 for _, _, n in probe.versions)
        # The actor acted between the publications (it does not wait for the learner).
        trained = [t for t, v, _ in probe.versions if v > 0]
        between = [sum(1 for a in probe.actions if t0 < a < t1)
                   for t0, t1 in zip(trained, trained[1:])]
        assert sum(n > 0 for n in between) >= 2, between
        wait_for(lambda: "acting with the learner's weights, version" in graph.log('rl_agent'),
                 30, what='the actor to take the weights')
        # A stale message (an old version) is refused by the actor and changes nothing.
        stale = msgs.PolicyWeights(version=1, task='racecar_parking')
        probe.stale_pub.publish(stale)
        wait_for(lambda: 'stale policy weights: version 1 is not newer' in
                 graph.log('rl_agent'), 30, what='the stale weights to be refused')
        # Kill the learner: the actor keeps acting with its last weights and says so.
        graph.kill('rl_learner', signal.SIGKILL)
        killed_at = time.monotonic()
        rows_at_kill = len(actor_history(tmp_path))
        ends_at_kill = len(probe.ends)
        wait_for(lambda: len(probe.ends) >= ends_at_kill + 4, 120,
                 what='four more episodes after the learner was killed')
        assert sum(1 for a in probe.actions if a > killed_at + 1.0) > STEPS
        wait_for(lambda: 'learner silent for' in graph.log('rl_agent'), 30,
                 what='the actor to report the silent learner')
        from diagnostic_msgs.msg import DiagnosticStatus
        # (after the stale message's WARN, shown for 5 s)
        wait_for(lambda: any(level == DiagnosticStatus.WARN and 'learner silent' in text
                             for level, text in list(probe.status)), 30,
                 what='WARN learner silent on /diagnostics')
        assert 'acting with its last weights' in graph.log('rl_agent')
        # The episodes after the kill were acted with one version, the learner's last.
        published = {v for _, v, _ in probe.versions}
        after = [row['weights_version'] for row in actor_history(tmp_path)[rows_at_kill + 1:]]
        assert len(after) >= 2 and len(set(after)) == 1, after
        assert after[0] in published and after[0] > 0, (after, sorted(published)[-3:])
        # Restarted, the learner resumes from its checkpoint; once its versions pass the
        # actor's again, the actor acts with them.
        taken = graph.log('rl_agent').count("acting with the learner's weights, version")
        graph.start('rl_agent', 'agent_node', 'rl_learner')
        wait_for(lambda: 'resumed from' in graph.log('rl_learner'), 60,
                 what='the learner to resume from its checkpoint')
        wait_for(lambda: graph.log('rl_agent').count(
            "acting with the learner's weights, version") > taken, 120,
            what="the actor to take the restarted learner's weights")
        # Ctrl-C: the learner writes its final checkpoint and exits cleanly.
        proc = graph.procs['rl_learner']
        graph.kill('rl_learner', signal.SIGINT)
        assert proc.returncode == 0, graph.log('rl_learner')[-2000:]
        assert 'written at the end' in graph.log('rl_learner')
    finally:
        graph.stop()
        probe.close()
    # The learner's periodic checkpoint survived its SIGKILL and still loads.
    from rl_agent.sac import SAC
    assert SAC.read_checkpoint(str(tmp_path / 'online' / 'agent.pt'), 'cpu')['online']
