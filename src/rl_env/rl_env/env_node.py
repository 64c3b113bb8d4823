# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The generic environment node: the episode protocol and safety for any registered robot.

The task comes from the policy's checkpoint (``task.checkpoint``; ``task.name`` must agree
when given; ``task.overrides`` may change only what the task declares overridable), the
robot from its hardware adapter (found by the task's name in the registry). Topics, all
relative so a namespace moves the whole graph:

- in: ``rl/action`` (rl_interfaces/Action), ``rl/estop`` (std_msgs/Bool, transient local:
  an e-stop published before this node started still arrives), ``rl/operator_ack``
  (std_msgs/Empty), ``rl/recorder_alive`` (std_msgs/UInt64, the recorder's heartbeat),
  plus whatever the adapter subscribes;
- out: ``rl/observation``, ``rl/transitions`` (reliable, deep queue), ``rl/episode_events``
  (transient local; with per-term returns and task metrics), ``/diagnostics``, plus the
  adapter's commands;
- services ``rl/start_episode`` and ``rl/release_estop`` (std_srvs/Trigger).

The e-stop latches: ``True`` on ``rl/estop`` aborts any episode (also during a reset) and
refuses starts until ``rl/release_estop`` is called on purpose while the e-stop input reads
``False``; a ``False`` alone releases nothing.

Protocol: start -> adapter reset (a future; failure or ``reset_timeout_s`` aborts) ->
warm-up until a fresh measurement -> optional operator acknowledgement -> steps at the
task's control rate: observation out, the agent's action (matched by the observation's
stamp) applied at once, the next measurement taken at the next tick, transition out ->
termination / truncation. Every fault stops the robot and ends the episode with a recorded
reason: watchdog, non-finite measurement or action, stale or missing measurements, e-stop.
"""

import dataclasses

from rclpy.node import Node
from rl_core import config_spec, registry, ros_executor, ros_params, ros_qos
from rl_core.config_spec import spec
from rl_core.episode import check_action, Episode
from rl_core.ros_diagnostics import Health
from rl_core.ros_messages import images_from_pixels
from rl_core.task import SafetyAbort
from rl_interfaces.msg import Action, EpisodeEvent, Observation, Transition
from std_msgs.msg import Bool, Empty, UInt64
from std_srvs.srv import Trigger
import torch

IDLE, RESETTING, WARMUP, WAITING_ACK, RUNNING = 'idle', 'resetting', 'warmup', 'ack', 'running'
TRANSITIONS_TOPIC = 'rl/transitions'


@dataclasses.dataclass
class EnvNodeConfig:
    """Episode-protocol and safety settings of the environment node (``env.*``)."""

    action_timeout_s: float = spec(0.1, 'Watchdog: stop when no action arrives within this '
                                   'time after an observation (s).', low=0.001, high=10.0)
    state_timeout_s: float = spec(0.2, 'Abort when the newest measurement is older than '
                                  'this (s).', low=0.001, high=10.0)
    warmup_s: float = spec(0.3, 'Wait after a reset before the first observation (s).',
                           low=0.0, high=60.0)
    warmup_grace_s: float = spec(5.0, 'Further wait for a fresh measurement after warm-up '
                                 'before the episode is aborted (s).', low=0.0, high=600.0)
    reset_timeout_s: float = spec(10.0, 'Abort when the robot reset has not finished '
                                  'within this time (s).', low=0.01, high=3600.0)
    require_operator_ack: bool = spec(False, 'Wait for rl/operator_ack before each episode '
                                      '(hardware).')
    trial_id: str = spec('trial', 'Name recorded with every transition.')
    recorder_node: str = spec('rl_replay', 'Refuse to start an episode until this node '
                              'subscribes to rl/transitions, so no transition goes '
                              "unrecorded ('': do not wait).")
    recorder_timeout_s: float = spec(1.0, "Abort the episode when the recorder's heartbeat "
                                     '(rl/recorder_alive) is older than this (s); 0 disables '
                                     'the check.', low=0.0, high=60.0)

    def __post_init__(self):
        """Validate every field against its declared range."""
        config_spec.validate(self)


class EnvNode(Node):
    """Runs episodes of the task on whatever robot answers behind the adapter."""

    def __init__(self):
        """Resolve the task, load the adapter, declare topics, the service and the timer."""
        super().__init__('rl_env')
        self.task, plugin = ros_params.declare_task(self)
        if not plugin.adapter:
            raise ValueError(f'task {plugin.name} registers no hardware adapter')
        self.cfg = ros_params.declare_config(self, EnvNodeConfig, 'env')
        self.pending_cfg = {}
        ros_params.add_validation(self, {'env': EnvNodeConfig},
                                  lambda _, change: self.pending_cfg.update(change))
        self.adapter = registry.load_object(plugin.adapter)()
        self.adapter.configure(self, self.task, 'adapter')
        self.obs_pub = self.create_publisher(Observation, 'rl/observation', ros_qos.STEP)
        self.transition_pub = self.create_publisher(Transition, TRANSITIONS_TOPIC,
                                                    ros_qos.RECORD)
        self.event_pub = self.create_publisher(EpisodeEvent, 'rl/episode_events',
                                               ros_qos.LATCHED)
        self.create_subscription(Action, 'rl/action', self.on_action, ros_qos.STEP)
        # Two subscriptions, so that every e-stop publisher connects: a transient-local one
        # (an e-stop published before this node started still arrives) and a best-effort
        # volatile one (matches volatile and best-effort publishers). Latching is idempotent.
        self.create_subscription(Bool, 'rl/estop', self.on_estop, ros_qos.LATCHED)
        self.create_subscription(Bool, 'rl/estop', self.on_estop, ros_qos.SENSOR)
        self.create_subscription(Empty, 'rl/operator_ack', self.on_ack, ros_qos.STEP)
        self.create_subscription(UInt64, 'rl/recorder_alive', self.on_recorder_alive,
                                 ros_qos.STEP)
        self.create_service(Trigger, 'rl/start_episode', self.on_start)
        self.create_service(Trigger, 'rl/release_estop', self.on_release_estop)
        self.health = Health(self, hardware_id=plugin.robot)
        self.mode = IDLE
        self.mode_since = self.now()
        self.estop = False
        self.estop_input = False
        self.recorder_seen = None
        self.recorder_last_episode = 0
        self.episode = None
        self.episode_id = 0
        self.reset_future = None
        self.obs_stamp = None
        self.obs_time = 0.0
        self.awaiting_action = False
        self.applied_action = None
        self.last_reason = ''
        self.create_timer(1.0 / self.task.control_hz, self.tick)
        self.get_logger().info(f'{self.task.describe()}; waiting for rl/start_episode')
        self.health.ok('idle', task=self.task.NAME, episode=0)

    # ------------------------------------------------------------------ inputs
    def now(self) -> float:
        """Node time in seconds."""
        return self.get_clock().now().nanoseconds * 1e-9

    def on_action(self, msg: Action):
        """Apply the agent's answer to the pending observation at once."""
        if self.mode != RUNNING or not self.awaiting_action:
            return
        if (msg.header.stamp.sec, msg.header.stamp.nanosec) != self.obs_stamp:
            self.get_logger().warn('ignoring an action that answers an older observation')
            return
        try:
            action = check_action(msg.action, self.task.action_spec.dim)[0].tolist()
            self.adapter.command(action)
        except SafetyAbort as exc:
            self.abort(exc.reason)
            return
        self.applied_action = list(msg.action)
        self.awaiting_action = False

    def on_estop(self, msg: Bool):
        """Latch the emergency stop; an active one aborts the episode and stops the robot."""
        self.estop_input = bool(msg.data)
        if not self.estop_input:
            if self.estop:
                self.get_logger().info('e-stop input released; the e-stop stays latched until '
                                       'rl/release_estop is called')
            return
        self.adapter.cancel_reset()
        self.adapter.stop()
        if not self.estop:
            self.get_logger().error('e-stop: robot commanded to stop; latched')
        self.estop = True
        self.health.error('e-stop latched')
        if self.mode != IDLE:
            self.abort('estop')

    def on_release_estop(self, _request, response):
        """Release a latched e-stop on purpose (refused while the input still reads True)."""
        response.success = False
        if not self.estop:
            response.success, response.message = True, 'e-stop was not latched'
        elif self.estop_input:
            response.message = 'e-stop input is still active (rl/estop is True)'
        else:
            self.estop = False
            response.success, response.message = True, 'e-stop released'
            self.get_logger().warn('e-stop released by rl/release_estop')
            self.health.ok('idle', episode=self.episode_id)
        return response

    def on_recorder_alive(self, msg: UInt64):
        """Note the recorder's heartbeat and the highest episode id in its bag."""
        self.recorder_seen = self.now()
        self.recorder_last_episode = int(msg.data)

    def on_ack(self, _msg: Empty):
        """Operator confirmed the robot is ready."""
        if self.mode == WAITING_ACK:
            self.begin()

    def recorder_ready(self) -> bool:
        """Return whether the configured recorder subscribes to the transitions."""
        topic = self.resolve_topic_name(TRANSITIONS_TOPIC)
        return any(info.node_name == self.cfg.recorder_node
                   for info in self.get_subscriptions_info_by_topic(topic))

    def on_start(self, _request, response):
        """Reset the robot and start the next episode."""
        response.success = False
        if self.estop:
            response.message = 'e-stop is latched (call rl/release_estop)'
        elif self.mode != IDLE:
            response.message = f'busy ({self.mode})'
        elif self.cfg.recorder_node and not self.recorder_ready():
            response.message = (f'recorder {self.cfg.recorder_node} is not subscribed to '
                                f'{TRANSITIONS_TOPIC} yet')
        elif self.cfg.recorder_node and self.cfg.recorder_timeout_s > 0 and (
                self.recorder_seen is None
                or self.now() - self.recorder_seen > self.cfg.recorder_timeout_s):
            response.message = f'no heartbeat from recorder {self.cfg.recorder_node} yet'
        elif self.adapter.not_ready():
            response.message = self.adapter.not_ready()
        else:
            self.apply_pending_config()
            # Episode ids never repeat within a trial, also after a restart of this node.
            self.episode_id = max(self.episode_id, self.recorder_last_episode) + 1
            self.episode = None
            self.reset_future = self.adapter.reset()
            self.set_mode(RESETTING)
            response.success, response.message = True, f'episode {self.episode_id}'
        return response

    # ------------------------------------------------------------------ protocol
    def set_mode(self, mode: str):
        """Enter a protocol mode."""
        self.mode = mode
        self.mode_since = self.now()

    def apply_pending_config(self):
        """Live parameter changes take effect between episodes."""
        if self.pending_cfg:
            self.cfg = config_spec.replace(self.cfg, **self.pending_cfg)
            self.pending_cfg = {}

    def begin(self):
        """Start the episode from the newest measurement."""
        self.episode = Episode(self.task, self.episode_id)
        try:
            measurement = self.fresh_measurement()
            obs = self.episode.start(measurement)
        except SafetyAbort as exc:
            self.set_mode(RUNNING)
            self.abort(exc.reason)
            return
        self.set_mode(RUNNING)
        self.health.ok(f'running episode {self.episode_id}', episode=self.episode_id)
        self.publish_event(EpisodeEvent.STARTED, '')
        self.publish_obs(obs)

    def fresh_measurement(self):
        """Return the newest measurement or raise SafetyAbort when none is recent."""
        latest = self.adapter.latest()
        if latest is None:
            raise SafetyAbort(f'missing_state: nothing from {self.adapter.describe_source()}')
        measurement, arrived = latest
        age = self.now() - arrived
        if age > self.cfg.state_timeout_s:
            raise SafetyAbort(f'stale_state: newest measurement from '
                              f'{self.adapter.describe_source()} is {age:.3f} s old')
        return measurement

    def tick(self):
        """Advance the protocol at the control rate."""
        if self.mode != RUNNING:
            # Between episodes the robot is held stopped: a fresh stop command every tick,
            # so actuator-side timeouts (which stop the robot when this node dies) stay quiet.
            self.adapter.stop()
            if self.mode == RESETTING:
                self.tick_reset()
            elif self.mode == WARMUP:
                self.tick_warmup()
            return
        try:
            measurement = self.fresh_measurement()
            self.check_recorder()
            if self.awaiting_action:
                waited = self.now() - self.obs_time
                if waited > self.cfg.action_timeout_s:
                    raise SafetyAbort(f'watchdog: no action {waited:.3f} s after the '
                                      'observation')
                return
            result = self.episode.step(self.applied_action, measurement)
        except SafetyAbort as exc:
            self.abort(exc.reason)
            return
        if result.done:
            self.publish_transition(result)
            self.adapter.stop()
            self.finish(EpisodeEvent.ENDED, result.reason)
        else:
            # The observation first: the agent is waiting for it; the transition (twice the
            # size, for the recorder and the agent's queue) is not urgent.
            self.publish_obs(result.next_obs)
            self.publish_transition(result)

    def check_recorder(self):
        """Raise SafetyAbort when the recorder's heartbeat stopped (nothing is recorded)."""
        timeout = self.cfg.recorder_timeout_s
        if not self.cfg.recorder_node or timeout <= 0:
            return
        if self.recorder_seen is None:
            raise SafetyAbort(f'recorder_lost: no heartbeat from {self.cfg.recorder_node} on '
                              'rl/recorder_alive')
        age = self.now() - self.recorder_seen
        if age > timeout:
            raise SafetyAbort(f'recorder_lost: {self.cfg.recorder_node} silent for '
                              f'{age:.2f} s; the episode would go unrecorded')

    def tick_reset(self):
        """Wait for the adapter's reset; a failed or hung reset aborts the episode."""
        future = self.reset_future
        if future.done():
            if future.ok:
                self.set_mode(WARMUP)
            else:
                self.set_mode(RUNNING)
                self.abort(f'reset_failed: {future.message}')
        elif self.now() - self.mode_since > self.cfg.reset_timeout_s:
            self.set_mode(RUNNING)
            self.abort(f'reset_timeout: the reset did not finish within '
                       f'{self.cfg.reset_timeout_s:g} s')

    def tick_warmup(self):
        """Wait ``warmup_s``, then for a fresh measurement (with a grace period)."""
        waited = self.now() - self.mode_since
        if waited < self.cfg.warmup_s:
            return
        try:
            self.fresh_measurement()
        except SafetyAbort as exc:
            if waited > self.cfg.warmup_s + self.cfg.warmup_grace_s:
                self.set_mode(RUNNING)
                self.abort(exc.reason)
            return
        if self.cfg.require_operator_ack:
            self.set_mode(WAITING_ACK)
            self.get_logger().info('waiting for rl/operator_ack')
        else:
            self.begin()

    def abort(self, reason: str):
        """Stop the robot and end the episode with a logged reason."""
        self.adapter.cancel_reset()
        self.adapter.stop()
        self.get_logger().error(f'episode {self.episode_id} aborted: {reason}; robot '
                                'commanded to stop')
        self.finish(EpisodeEvent.ABORTED, reason)
        if not self.estop:
            self.health.warn(f'episode {self.episode_id} aborted: {reason}',
                             episode=self.episode_id, last_end=reason)

    def finish(self, event: int, reason: str):
        """Publish the end event and go idle."""
        self.last_reason = reason
        self.publish_event(event, reason)
        self.awaiting_action = False
        self.set_mode(IDLE)
        if event == EpisodeEvent.ENDED:
            self.health.ok('idle', episode=self.episode_id, last_end=reason)

    # ------------------------------------------------------------------ outputs
    def fill_observation(self, msg: Observation, obs, header) -> None:
        """Copy a batch-of-one observation into a message."""
        msg.header = header
        msg.state = obs.state[0].tolist()
        if obs.pixels is not None:
            msg.images = images_from_pixels(obs.pixels[0].cpu().numpy(), header)

    def publish_obs(self, obs):
        """Publish an observation and start waiting for its action."""
        msg = Observation()
        header = msg.header
        header.stamp = self.get_clock().now().to_msg()
        header.frame_id = f'{self.cfg.trial_id}/{self.episode_id}/{self.episode.step_id}'
        self.fill_observation(msg, obs, header)
        self.obs_stamp = (header.stamp.sec, header.stamp.nanosec)
        self.obs_time = self.now()
        self.awaiting_action = True
        self.obs_pub.publish(msg)

    def publish_transition(self, r):
        """Publish one completed step."""
        msg = Transition()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.trial_id = self.cfg.trial_id
        msg.episode_id, msg.step_id = self.episode_id, r.step_id
        self.fill_observation(msg.observation, r.obs, msg.header)
        self.fill_observation(msg.next_observation, r.next_obs, msg.header)
        msg.action = r.action
        msg.reward = r.reward
        msg.terminated, msg.truncated = r.terminated, r.truncated
        self.transition_pub.publish(msg)

    def publish_event(self, event: int, reason: str):
        """Publish an episode event with per-term returns and task metrics."""
        msg = EpisodeEvent()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.trial_id = self.cfg.trial_id
        msg.episode_id = self.episode_id
        msg.event = event
        msg.reason = reason
        if self.episode is not None:
            msg.num_steps = self.episode.step_id
            metrics = self.episode.metrics()
            ret = self.episode.episode_return
            msg.episode_return = float(ret) if ret == ret and abs(ret) < 1e30 else 0.0
            msg.success = bool(self.episode.success)
            if event != EpisodeEvent.STARTED:
                msg.metric_names = list(metrics)
                msg.metric_values = [float(v) for v in metrics.values()]
        self.event_pub.publish(msg)


def command_stop(node: EnvNode) -> None:
    """On the way out: command the robot to stop while the context can still send it."""
    if node.context.ok():
        node.adapter.stop()
        node.get_logger().info('shutting down: robot commanded to stop')
        node.adapter.cleanup()


def main(args=None):
    """Run the node until Ctrl-C / SIGTERM; the robot is commanded to stop on the way out."""
    # Our own Ctrl-C handling (ros_executor.run_node): the context must still be valid to
    # send the stop command, and SIGINT / SIGTERM only end the spin between turns
    # (<= 0.1 s): no KeyboardInterrupt lands inside a timer callback mid-step.
    # A refused start (unknown task, checkpoint of another task, bad override) exits 2.
    # Tiny tensors only: one thread, so this process never competes with the learner.
    torch.set_num_threads(1)
    return ros_executor.run_node(EnvNode, 'rl_env', ros_params.start_errors(),
                                 on_exit=command_stop, args=args)


if __name__ == '__main__':
    main()
