# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Race-car environment node: topics in and out, the episode protocol, safety.

Subscribes the driver's ``/car/odom``, the agent's ``/rl/action``, ``/rl/estop`` and
``/rl/operator_ack``; publishes ``/car/drive_command``, ``/rl/observation``,
``/rl/transitions`` and ``/rl/episode_events``; serves ``/rl/start_episode``. All task logic
is in ``racecar_rl_env.episode`` / ``task`` (shared with pretraining).
"""

import dataclasses
import math

from nav_msgs.msg import Odometry
from racecar_rl_env import racecar_constants as names
from racecar_rl_env.episode import (EnvNodeConfig, Episode, SafetyAbort,
                                    steering_and_throttle)
from racecar_rl_env.state_estimator import yaw_from_quaternion
from racecar_rl_env.task import default_config
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from rl_core import ros_params
from rl_interfaces.msg import Action, DriveCommand, EpisodeEvent, Observation, Transition
from std_msgs.msg import Bool, Empty
from std_srvs.srv import Trigger
import torch

IDLE, RESETTING, WARMUP, WAITING_ACK, RUNNING = 'idle', 'resetting', 'warmup', 'ack', 'running'
WARMUP_GRACE_S = 5.0  # s


class RacecarEnvNode(Node):
    """Runs episodes of the parking task on whatever car answers on the driver topics."""

    def __init__(self):
        """Declare parameters, topics, the start service and the control timer."""
        super().__init__('racecar_env')
        self.cfg = ros_params.declare_config(self, EnvNodeConfig, 'env')
        self.pending_cfg = {}
        ros_params.add_validation(self, {'env': EnvNodeConfig},
                                  lambda _, change: self.pending_cfg.update(change))
        self.drive_pub = self.create_publisher(DriveCommand, names.DRIVE_COMMAND_TOPIC, 10)
        self.obs_pub = self.create_publisher(Observation, '/rl/observation', 10)
        self.transition_pub = self.create_publisher(Transition, '/rl/transitions', 100)
        self.event_pub = self.create_publisher(EpisodeEvent, '/rl/episode_events', 10)
        self.create_subscription(Odometry, names.ODOM_TOPIC, self.on_odom, 10)
        self.create_subscription(Action, '/rl/action', self.on_action, 10)
        self.create_subscription(Bool, '/rl/estop', self.on_estop, 10)
        self.create_subscription(Empty, '/rl/operator_ack', self.on_ack, 10)
        self.create_service(Trigger, '/rl/start_episode', self.on_start)
        self.reset_client = (self.create_client(Trigger, self.cfg.reset_service)
                             if self.cfg.reset_service else None)
        self.state = None
        self.state_time = None
        self.mode = IDLE
        self.mode_since = self.now()
        self.estop = False
        self.episode = None
        self.episode_id = 0
        self.obs_stamp = None
        self.awaiting_action = False
        self.applied_action = None
        self.last_reason = ''
        self.create_timer(1.0 / self.cfg.control_hz, self.tick)
        self.get_logger().info('race-car env ready; waiting for /rl/start_episode')

    # ------------------------------------------------------------------ inputs
    def now(self) -> float:
        """Node time in seconds."""
        return self.get_clock().now().nanoseconds * 1e-9

    def on_odom(self, msg: Odometry):
        """Store the newest state [x, y, yaw, vx, vy, omega] and when it arrived."""
        p, q, t = msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist
        self.state = [p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w), t.linear.x,
                      t.linear.y, t.angular.z]
        self.state_time = self.now()

    def on_action(self, msg: Action):
        """Apply the agent's answer to the pending observation at once."""
        if self.mode != RUNNING or not self.awaiting_action:
            return
        if (msg.header.stamp.sec, msg.header.stamp.nanosec) != self.obs_stamp:
            self.get_logger().warn('ignoring an action that answers an older observation')
            return
        try:
            steer, throttle = steering_and_throttle(msg.action, self.cfg.steering_limit,
                                                    self.cfg.max_throttle)
        except (SafetyAbort, ValueError) as exc:
            self.abort(getattr(exc, 'reason', f'invalid_action: {exc}'))
            return
        self.publish_drive(steer, throttle)
        self.applied_action = list(msg.action)
        self.awaiting_action = False

    def on_estop(self, msg: Bool):
        """Latch the emergency stop; an active one aborts the episode and stops the car."""
        self.estop = bool(msg.data)
        if self.estop:
            self.publish_drive(0.0, 0.0)
            if self.mode != IDLE:
                self.abort('estop')

    def on_ack(self, _msg: Empty):
        """Operator confirmed the car is ready."""
        if self.mode == WAITING_ACK:
            self.begin()

    def on_start(self, _request, response):
        """Reset the car and start the next episode."""
        if self.estop:
            response.success, response.message = False, 'e-stop is active'
        elif self.mode != IDLE:
            response.success, response.message = False, f'busy ({self.mode})'
        elif self.cfg.recorder_node and not any(
                info.node_name == self.cfg.recorder_node
                for info in self.get_subscriptions_info_by_topic('/rl/transitions')):
            response.success = False
            response.message = (f'recorder {self.cfg.recorder_node} is not subscribed to '
                                '/rl/transitions yet')
        else:
            self.apply_pending_config()
            self.episode_id += 1
            response.success, response.message = True, f'episode {self.episode_id}'
            if self.reset_client is not None:
                if not self.reset_client.service_is_ready():
                    response.success = False
                    response.message = f'reset service {self.cfg.reset_service} unavailable'
                    self.episode_id -= 1
                    return response
                self.set_mode(RESETTING)
                self.reset_client.call_async(Trigger.Request()).add_done_callback(
                    lambda _: self.set_mode(WARMUP))
            else:
                self.set_mode(WARMUP)
        return response

    # ------------------------------------------------------------------ protocol
    def set_mode(self, mode: str):
        """Enter a protocol mode."""
        self.mode = mode
        self.mode_since = self.now()

    def apply_pending_config(self):
        """Live parameter changes take effect between episodes."""
        if self.pending_cfg:
            self.cfg = dataclasses.replace(self.cfg, **self.pending_cfg)
            self.pending_cfg = {}

    def begin(self):
        """Start the episode from the newest measured state."""
        task_cfg = dataclasses.replace(default_config(), episode_steps=self.cfg.episode_steps,
                                       control_hz=self.cfg.control_hz)
        self.episode = Episode(task_cfg, self.episode_id)
        try:
            self.check_fresh()
            obs = self.episode.start(self.state)
        except SafetyAbort as exc:
            self.set_mode(RUNNING)
            self.abort(exc.reason)
            return
        self.set_mode(RUNNING)
        self.publish_event(EpisodeEvent.STARTED, '')
        self.publish_obs(obs)

    def check_fresh(self):
        """Raise SafetyAbort when no state arrived recently."""
        if self.state_time is None:
            raise SafetyAbort(f'missing_state: nothing on {names.ODOM_TOPIC}')
        age = self.now() - self.state_time
        if age > self.cfg.state_timeout_s:
            raise SafetyAbort(f'stale_state: newest {names.ODOM_TOPIC} is {age:.3f} s old')

    def tick(self):
        """Advance the protocol at the control rate."""
        if self.mode in (IDLE, RESETTING, WAITING_ACK):
            if self.mode == IDLE:
                self.publish_drive(0.0, 0.0)
            return
        if self.mode == WARMUP:
            waited = self.now() - self.mode_since
            if waited < self.cfg.warmup_s:
                return
            try:
                self.check_fresh()
            except SafetyAbort as exc:
                # Give the state estimate a grace period after a reset (discovery, mocap
                # re-acquiring the car) before giving up on this episode.
                if waited > self.cfg.warmup_s + WARMUP_GRACE_S:
                    self.set_mode(RUNNING)
                    self.abort(exc.reason)
                return
            if self.cfg.require_operator_ack:
                self.set_mode(WAITING_ACK)
                self.get_logger().info('waiting for /rl/operator_ack')
            else:
                self.begin()
            return
        try:
            self.check_fresh()
            if self.awaiting_action:
                waited = self.now() - self.obs_time
                if waited > self.cfg.action_timeout_s:
                    raise SafetyAbort(f'watchdog: no action {waited:.3f} s after the '
                                      'observation')
                return
            result = self.episode.step(self.applied_action, self.state)
        except SafetyAbort as exc:
            self.abort(exc.reason)
            return
        self.publish_transition(result)
        if result.done:
            self.publish_drive(0.0, 0.0)
            reason = 'out_of_arena' if result.terminated else 'time_limit'
            self.finish(EpisodeEvent.ENDED, reason)
        else:
            self.publish_obs(result.next_obs)

    def abort(self, reason: str):
        """Stop the car and end the episode with a logged reason."""
        self.publish_drive(0.0, 0.0)
        self.get_logger().error(f'episode {self.episode_id} aborted: {reason}; car '
                                'commanded to stop')
        self.finish(EpisodeEvent.ABORTED, reason)

    def finish(self, event: int, reason: str):
        """Publish the end event and go idle."""
        self.last_reason = reason
        self.publish_event(event, reason)
        self.awaiting_action = False
        self.set_mode(IDLE)

    # ------------------------------------------------------------------ outputs
    def publish_drive(self, steer: float, throttle: float):
        """Send a drive command in hardware units."""
        msg = DriveCommand()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = names.BODY_FRAME
        msg.steering_angle, msg.throttle = float(steer), float(throttle)
        self.drive_pub.publish(msg)

    def publish_obs(self, obs):
        """Publish an observation and start waiting for its action."""
        msg = Observation()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = f'{self.cfg.trial_id}/{self.episode_id}/{self.episode.step_id}'
        msg.state = [float(v) for v in obs]
        self.obs_stamp = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        self.obs_time = self.now()
        self.awaiting_action = True
        self.obs_pub.publish(msg)

    def publish_transition(self, r):
        """Publish one completed step."""
        msg = Transition()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.trial_id = self.cfg.trial_id
        msg.episode_id, msg.step_id = self.episode_id, r.step_id
        msg.observation.state = r.obs
        msg.next_observation.state = r.next_obs
        msg.action = r.action
        msg.reward = r.reward
        msg.terminated, msg.truncated = r.terminated, r.truncated
        self.transition_pub.publish(msg)

    def publish_event(self, event: int, reason: str):
        """Publish an episode event."""
        msg = EpisodeEvent()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.trial_id = self.cfg.trial_id
        msg.episode_id = self.episode_id
        msg.event = event
        msg.reason = reason
        if self.episode is not None:
            msg.num_steps = self.episode.step_id
            ret = self.episode.episode_return
            msg.episode_return = float(ret) if math.isfinite(ret) else 0.0
            msg.success = bool(self.episode.success)
        self.event_pub.publish(msg)


def main(args=None):
    """Run the node until shutdown; the car is commanded to stop on the way out."""
    # Our own Ctrl-C handling: the context must still be valid to send the stop command.
    # Tiny tensors only: one thread, so this process never competes with the learner.
    torch.set_num_threads(1)
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    try:
        node = RacecarEnvNode()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None and rclpy.ok():
            node.publish_drive(0.0, 0.0)
            node.get_logger().info('shutting down: car commanded to stop')
        rclpy.try_shutdown()


if __name__ == '__main__':
    main()
