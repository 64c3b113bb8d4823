# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The agent node under faults: nothing silent, nothing lost (DDS on loopback, domains 71, 73).

Agent process behind a fake env node (start service, observations, transitions, latched
episode events, /diagnostics listener):

- a checkpoint that cannot be written (``agent.online_checkpoint`` below a regular file:
  the test runs as root, so a read-only folder would not stop it) pauses the agent: no
  further episode is requested, the log and /diagnostics (ERROR) name the exception, the
  transitions stay in D_online; ``rl/resume_training`` after the cause is removed
  writes the checkpoint and the agent asks for episodes again;
- ``sac.cuda_graph`` on a CPU agent is refused at set time with the reason; ``agent.device``,
  ``online.online_capacity`` and ``sac.seed`` are read-only;
- observations of the wrong size or with NaN get no action, a log line naming both sizes
  and a WARN on /diagnostics;
- a restarted agent does not train again on the episode event latched by the env.

In-process (the node object, no DDS traffic needed): a parameter change that fails to
apply stays queued (WARN) and applies once it can; a training phase that raises pauses
the agent with the data kept and checkpointed, and ``rl/resume_training`` reruns it;
``rl/pause_training`` pauses on request.
"""

import json
import math
import os
import signal
import subprocess
import threading
import time

from graph_harness import call_service, ros_env, wait_for, write_untrained_pi0
import pytest

rclpy = pytest.importorskip('rclpy')
msgs = pytest.importorskip('rl_interfaces.msg')

PROCESS_DOMAIN = 71
NODE_DOMAIN = 73
STEPS = 5


@pytest.fixture(scope='module')
def pi0(tmp_path_factory):
    """Save a small untrained car agent (obs 45, action 2) and a D0 bag."""
    return write_untrained_pi0(tmp_path_factory.mktemp('pi0'), 'd0', actor_update_period=1)


def transition(episode, step):
    msg = msgs.Transition()
    msg.trial_id, msg.episode_id, msg.step_id = 'faults', episode, step
    msg.observation.state = [0.1 * step] * 45
    msg.next_observation.state = [0.1 * (step + 1)] * 45
    msg.action, msg.reward = [0.5, -0.5], -1.0
    msg.truncated = step == STEPS - 1
    return msg


def ended(episode):
    msg = msgs.EpisodeEvent()
    msg.trial_id, msg.episode_id, msg.event = 'faults', episode, msgs.EpisodeEvent.ENDED
    msg.reason, msg.num_steps, msg.episode_return = 'time_limit', STEPS, -5.0
    return msg


# ---------------------------------------------------------------------- agent process
def start_agent(tmp_path, *params):
    from rl_experiments.sim_to_online import executable
    log = open(tmp_path / 'rl_agent.log', 'a')
    args = [executable('rl_agent', 'agent_node'), '--ros-args']
    for p in params:
        args += ['-p', p]
    return subprocess.Popen(args, env=ros_env(PROCESS_DOMAIN), stdout=log,
                            stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True)


def stop(proc, sig=signal.SIGINT):
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class FakeEnv:
    """The env node's side of the agent's topics and services, plus a /diagnostics listener."""

    def __init__(self):
        from diagnostic_msgs.msg import DiagnosticArray
        from rcl_interfaces.srv import SetParameters
        from rl_core import ros_qos
        from std_srvs.srv import Trigger
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=PROCESS_DOMAIN)
        node = self.node = rclpy.create_node('rl_env', context=self.context)
        self.obs_pub = node.create_publisher(msgs.Observation, 'rl/observation', ros_qos.STEP)
        self.tr_pub = node.create_publisher(msgs.Transition, 'rl/transitions', ros_qos.RECORD)
        self.ev_pub = node.create_publisher(msgs.EpisodeEvent, 'rl/episode_events',
                                            ros_qos.LATCHED)
        self.actions, self.status, self.starts = [], [], 0
        node.create_subscription(msgs.Action, 'rl/action', self.actions.append, ros_qos.STEP)
        node.create_subscription(DiagnosticArray, '/diagnostics', self.on_status, 50)
        node.create_service(Trigger, 'rl/start_episode', self.on_start)
        self.resume = node.create_client(Trigger, 'rl/resume_training')
        self.params = node.create_client(SetParameters, '/rl_agent/set_parameters')
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(node)
        threading.Thread(target=self.executor.spin, daemon=True).start()

    def on_start(self, request, response):
        self.starts += 1
        response.success = True
        return response

    def on_status(self, msg):
        self.status += [s for s in msg.status if s.name == '/rl_agent']

    def seen(self, level, text):
        return any(s.level == level and text in s.message for s in list(self.status))

    def call(self, client, request):
        return call_service(client, request, client.srv_name)

    def set_parameter(self, name, value):
        from rcl_interfaces.msg import Parameter
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter as P
        request = SetParameters.Request(parameters=[Parameter(
            name=name, value=P(name, value=value).get_parameter_value())])
        return self.call(self.params, request).results[0]

    def observe(self, sec, state):
        msg = msgs.Observation()
        msg.header.stamp.sec = sec
        msg.state = state
        self.obs_pub.publish(msg)

    def close(self):
        self.executor.shutdown()
        rclpy.shutdown(context=self.context)


def test_agent_process_pauses_reports_resumes_and_refuses_bad_input(tmp_path, pi0):
    from diagnostic_msgs.msg import DiagnosticStatus as S
    from std_srvs.srv import Trigger
    blocker = tmp_path / 'online'
    blocker.write_text('a file where the checkpoint folder should be')
    online = blocker / 'agent.pt'
    params = [f'task.checkpoint:={pi0}/checkpoint.pt', f'agent.online_checkpoint:={online}',
              'online.warm_start_episodes:=0', 'online.min_replay:=1', 'online.utd:=1.0',
              'online.batch_size:=4']
    env = FakeEnv()
    proc = start_agent(tmp_path, *params)

    def log():
        return (tmp_path / 'rl_agent.log').read_text()
    try:
        wait_for(lambda: env.starts >= 1, 90, what='the first episode request')
        wait_for(lambda: env.seen(S.OK, 'acting'), 10, what='OK acting')
        # Wrong size and NaN: no action, a log line naming both sizes, WARN.
        env.observe(1, [0.0, 0.0, 0.0])
        env.observe(2, [math.nan] * 45)
        env.observe(3, [0.0] * 45)
        wait_for(lambda: any(a.header.stamp.sec == 3 for a in env.actions), 30,
                 what='an action for the good observation')
        wait_for(lambda: 'observation with NaN/inf: no action sent' in log(), 10,
                 what='the NaN log line')
        assert 'observation of 3 state values, the policy takes 45: no action sent' in log()
        assert [a.header.stamp.sec for a in env.actions] == [3]
        wait_for(lambda: env.seen(S.WARN, 'the policy takes 45'), 10, what='WARN size')
        # Parameters that cannot change at run time are refused at set time.
        result = env.set_parameter('sac.cuda_graph', True)
        assert not result.successful
        assert 'sac.cuda_graph=true needs a CUDA device; this agent runs on cpu' in \
            result.reason
        for name, value in (('agent.device', 'cuda'), ('online.online_capacity', 10),
                            ('sac.seed', 3)):
            result = env.set_parameter(name, value)
            assert not result.successful and 'read-only' in result.reason, (name, result)
        assert env.set_parameter('online.utd', 2.0).successful  # a live one is taken
        # An episode whose checkpoint cannot be written: paused, reported, data kept.
        for step in range(STEPS):
            env.tr_pub.publish(transition(1, step))
        time.sleep(0.3)
        env.ev_pub.publish(ended(1))
        wait_for(lambda: env.seen(S.ERROR, 'training failed: FileExistsError'), 60,
                 what='ERROR training failed')
        assert 'training failed: FileExistsError' in log()
        assert '(in the checkpoint). Paused: no further episode is requested; 5 ' \
            'transitions are kept in D_online' in log()
        assert 'rl/resume_training' in [s for s in env.status if s.level == S.ERROR][-1].message
        time.sleep(1.5)
        assert env.starts == 1, 'a paused agent asked for an episode'
        # The cause removed, resume on purpose: checkpoint written, episodes requested.
        blocker.unlink()
        response = env.call(env.resume, Trigger.Request())
        assert response.success and 'retrying after: FileExistsError' in response.message
        wait_for(lambda: online.is_file(), 60, what='the checkpoint after resume')
        wait_for(lambda: env.starts >= 2, 30, what='an episode request after resume')
        wait_for(lambda: env.status[-1].level == S.OK, 10, what='OK after resume')
        from rl_agent.sac import SAC
        state = SAC.read_checkpoint(str(online))
        assert len(state['online']['buffer']['reward']) == STEPS
        history = json.loads((blocker / 'agent_history.json').read_text())
        assert len(history) == 1 and history[0]['updates'] == 2 * STEPS  # utd 2.0, applied
        # A restarted agent does not train again on the event the env still latches.
        stop(proc, signal.SIGKILL)
        starts = env.starts
        proc = start_agent(tmp_path, *params)
        wait_for(lambda: 'resumed from' in log(), 90, what='the restarted agent')
        wait_for(lambda: env.starts > starts, 60, what='a request from the restarted agent')
        time.sleep(2.0)
        assert log().count('episode 1: return') == 1 and 'episode 2: return' not in log()
    finally:
        stop(proc)
        env.close()


# ---------------------------------------------------------------------- node in process
@pytest.fixture
def node(tmp_path, pi0):
    """Build an AgentNode in this process (its own context); nothing spins it."""
    from rclpy.parameter import Parameter
    from rl_agent.agent_node import AgentNode
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=NODE_DOMAIN)
    overrides = {'task.checkpoint': str(pi0 / 'checkpoint.pt'),
                 'agent.online_checkpoint': str(tmp_path / 'online' / 'agent.pt'),
                 'online.warm_start_episodes': 0, 'online.min_replay': 1,
                 'online.utd': 1.0, 'online.batch_size': 4}
    agent = AgentNode(context=context, parameter_overrides=[
        Parameter(k, value=v) for k, v in overrides.items()])
    yield agent
    agent.destroy_node()
    rclpy.shutdown(context=context)


def test_failed_parameter_application_keeps_the_changes_queued(node):
    from diagnostic_msgs.msg import DiagnosticStatus as S
    from rclpy.parameter import Parameter
    results = node.set_parameters([Parameter('sac.actor_lr', value=1e-4),
                                   Parameter('online.utd', value=2.0)])
    assert all(r.successful for r in results)
    agent = node.learner.agent
    working = agent.set_hyperparameters

    def broken(**changes):
        raise RuntimeError('injected: optimizer update failed')
    agent.set_hyperparameters = broken
    node.apply_pending()
    assert node.pending == {'sac': {'actor_lr': 1e-4}}  # kept; online applied
    assert node.learner.config.utd == 2.0 and agent.config.actor_lr != 1e-4
    assert node.health.level == S.WARN
    assert "parameter changes not applied (kept queued): sac {'actor_lr': 0.0001}: " \
        'RuntimeError: injected: optimizer update failed' in node.health.message
    node.apply_pending()  # still failing: still queued
    assert node.pending == {'sac': {'actor_lr': 1e-4}}
    # A newer value replaces the queued one; once applying works, it takes effect.
    assert node.set_parameters([Parameter('sac.actor_lr', value=2e-4)])[0].successful
    assert node.pending == {'sac': {'actor_lr': 2e-4}}
    agent.set_hyperparameters = working
    node.apply_pending()
    assert node.pending == {} and agent.config.actor_lr == 2e-4
    assert (node.health.level, node.health.message) == (S.OK, 'acting')


def test_cross_field_rules_and_cuda_graph_are_checked_at_set_time(node):
    from rclpy.parameter import Parameter
    result = node.set_parameters([Parameter('sac.cuda_graph', value=True)])[0]
    assert not result.successful and 'needs a CUDA device' in result.reason
    assert node.pending == {}
    assert node.set_parameters([Parameter('sac.cuda_graph', value=False)])[0].successful


def test_training_failure_pauses_keeps_data_and_resume_retries(node, tmp_path):
    from diagnostic_msgs.msg import DiagnosticStatus as S
    from std_srvs.srv import Trigger
    agent = node.learner.agent
    working = agent.update

    def broken(batch):
        raise RuntimeError('injected: device lost')
    agent.update = broken
    for step in range(STEPS):
        node.on_transition(transition(1, step))
    node.training = True
    node.train_and_save(ended(1))  # what the worker thread runs
    assert 'RuntimeError: injected: device lost (in the training phase)' in node.failure
    assert node.health.level == S.ERROR
    assert node.health.message.startswith('training failed: RuntimeError: injected')
    assert not node.need_start and not node.training  # paused: no episode is requested
    assert len(node.learner.online) == STEPS
    from rl_agent.sac import SAC
    online = tmp_path / 'online' / 'agent.pt'
    state = SAC.read_checkpoint(str(online))  # checkpointed after the failure
    assert len(state['online']['buffer']['reward']) == STEPS
    assert state['critic_updates'] == 0
    # An episode that still ends is stored (and checkpointed), not trained on.
    for step in range(STEPS):
        node.on_transition(transition(2, step))
    node.training = True
    node.train_and_save(ended(2))
    assert len(node.learner.online) == 2 * STEPS and agent.critic_updates == 0
    assert node.failure and not node.need_start
    # Resume on purpose once the cause is gone: both episodes' steps are trained on.
    agent.update = working
    response = node.on_resume(Trigger.Request(), Trigger.Response())
    assert response.success and 'retrying after: RuntimeError' in response.message
    wait_for(lambda: not node.training, 60, what='the retried training phase')
    assert node.failure == '' and node.need_start
    assert agent.critic_updates == 2 * STEPS  # utd 1.0 x 10 steps
    assert (node.health.level, node.health.message) == (S.OK, 'acting')
    assert SAC.read_checkpoint(str(online))['critic_updates'] == 2 * STEPS


def test_pause_and_resume_on_request(node):
    from diagnostic_msgs.msg import DiagnosticStatus as S
    from std_srvs.srv import Trigger
    assert node.on_pause(Trigger.Request(), Trigger.Response()).success
    assert not node.need_start and node.health.level == S.WARN
    assert node.health.message.startswith('paused')
    for step in range(STEPS):
        node.on_transition(transition(1, step))
    node.training = True
    node.train_and_save(ended(1))  # a running episode is finished and trained on ...
    assert not node.need_start  # ... but no new one is requested
    response = node.on_resume(Trigger.Request(), Trigger.Response())
    assert response.success and response.message.startswith('resumed')
    assert node.need_start and (node.health.level, node.health.message) == (S.OK, 'acting')
    assert node.on_resume(Trigger.Request(), Trigger.Response()).message == \
        'not paused: nothing to resume'


def test_wrong_observation_gets_no_action_and_a_warning(node):
    from diagnostic_msgs.msg import DiagnosticStatus as S
    sent = []
    node.action_pub.publish = sent.append
    msg = msgs.Observation()
    msg.state = [0.0] * 44
    node.on_observation(msg)
    assert not sent and node.health.level == S.WARN
    assert node.health.message == ('observation of 44 state values, the policy takes 45: '
                                   'no action sent')
    msg.state = [0.0] * 45
    node.on_observation(msg)
    assert len(sent) == 1


def test_cuda_graph_in_the_parameter_file_of_a_cpu_agent_refuses_the_start(tmp_path, pi0):
    from rclpy.parameter import Parameter
    from rl_agent.agent_node import AgentNode
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=NODE_DOMAIN)
    try:
        with pytest.raises(ValueError, match='sac.cuda_graph=true needs a CUDA device; '
                                             "agent.device is 'cpu'"):
            AgentNode(context=context, parameter_overrides=[
                Parameter('task.checkpoint', value=str(pi0 / 'checkpoint.pt')),
                Parameter('agent.online_checkpoint', value=str(tmp_path / 'a.pt')),
                Parameter('sac.cuda_graph', value=True)])
    finally:
        rclpy.shutdown(context=context)
    assert not (tmp_path / 'a.pt').exists()
