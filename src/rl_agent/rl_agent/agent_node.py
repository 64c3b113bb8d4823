# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Agent node: acts at control rate and trains between episodes.

Loads the pretrained checkpoint as pi0 (or resumes its own online checkpoint), answers
every ``/rl/observation`` with an ``/rl/action`` (echoing the observation's stamp), stores
``/rl/transitions`` in D_online, and after each episode event runs the training phase in a
worker thread (parameter services stay responsive), saves an atomic checkpoint (agent,
optimizers, D_online, counters) and calls ``/rl/start_episode`` for the next episode.
Every learner and schedule hyperparameter is a ROS parameter (``sac.*``, ``online.*``) with
description and range; live changes take effect at the next training phase.
"""

import gc
import json
import os
import threading
import time

from rcl_interfaces.msg import IntegerRange, ParameterDescriptor
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.node import Node
from rl_core import config_spec, ros_params
from rl_agent.online import load_offline, OnlineConfig, OnlineLearner
from rl_agent.sac import SAC, SACConfig
from rl_interfaces.msg import Action, EpisodeEvent, Observation, Transition
from std_srvs.srv import Trigger
import torch


class AgentNode(Node):
    """SAC agent with the sim-to-online stabilizers behind the RL topics."""

    def __init__(self):
        """Load pi0 or resume, declare parameters, wire topics."""
        super().__init__('rl_agent')

        def param(name, default, text, **kw):
            return self.declare_parameter(name, default, ParameterDescriptor(
                description=text, read_only=True, **kw)).value
        checkpoint = param('agent.checkpoint', '', 'Pretrained pi0 checkpoint (.pt).')
        self.online_path = param('agent.online_checkpoint', 'runs/online/agent_online.pt',
                                 'Online checkpoint, written after every episode and '
                                 'resumed from on restart.')
        bags = param('agent.d0_bags', [''], 'rosbag2 folders forming D0.')
        device = param('agent.device', 'cpu', "Torch device ('cpu', 'cuda').")
        self.max_episodes = param('agent.max_episodes', 0, 'Stop after this many episodes '
                                  '(0: never).',
                                  integer_range=[IntegerRange(from_value=0, to_value=10 ** 9)])
        self.explore = param('agent.explore', True, 'Sample actions (else the policy mode).')
        if not checkpoint and not os.path.isfile(self.online_path):
            raise ValueError('agent.checkpoint is empty and no online checkpoint exists at '
                             f'{self.online_path}: nothing to start from')
        source = self.online_path if os.path.isfile(self.online_path) else checkpoint
        pi0 = SAC.load(source, device)
        sac_cfg = ros_params.declare_config(self, SACConfig, 'sac', pi0.config)
        online_cfg = ros_params.declare_config(self, OnlineConfig, 'online')
        live = {k: v for k, v in config_spec.to_dict(sac_cfg).items()
                if not SACConfig.__dataclass_fields__[k].metadata.get('read_only')}
        pi0.set_hyperparameters(**{k: tuple(v) if isinstance(v, list) else v
                                   for k, v in live.items()})
        self.pending = {}
        self.pending_lock = threading.Lock()
        ros_params.add_validation(self, {'sac': SACConfig, 'online': OnlineConfig},
                                  self.on_param_change)
        offline = load_offline([b for b in bags if b], device)
        self.learner = OnlineLearner(pi0, online_cfg, offline)
        if self.learner.restore(self.online_path):
            self.get_logger().info(f'resumed from {self.online_path}: '
                                   f'{self.learner.episodes} episodes, '
                                   f'{len(self.learner.online)} online transitions')
        else:
            self.get_logger().info(f'pi0 from {checkpoint}; D0 holds '
                                   f'{0 if offline is None else len(offline)} transitions')
        # The first forward pass allocates and dispatches lazily (tens of ms); pay it here,
        # not on the first observation, where the env's watchdog is waiting.
        self.touch_policy(False, True)
        act_group = MutuallyExclusiveCallbackGroup()
        self.action_pub = self.create_publisher(Action, '/rl/action', 10)
        self.create_subscription(Observation, '/rl/observation', self.on_observation, 10,
                                 callback_group=act_group)
        self.create_subscription(Transition, '/rl/transitions', self.on_transition, 1000,
                                 callback_group=act_group)
        self.create_subscription(EpisodeEvent, '/rl/episode_events', self.on_event, 10,
                                 callback_group=act_group)
        self.start_client = self.create_client(Trigger, '/rl/start_episode',
                                               callback_group=MutuallyExclusiveCallbackGroup())
        self.training = False
        self.need_start = self.max_episodes == 0 or self.learner.episodes < self.max_episodes
        self.start_in_flight = False
        self.finished = threading.Event()
        if not self.need_start:
            self.finished.set()
        self.create_timer(0.2, self.maybe_start, callback_group=MutuallyExclusiveCallbackGroup())

    def touch_policy(self, *deterministic: bool) -> None:
        """Run the policy once per mode on a zero observation (no action is published)."""
        agent = self.learner.agent
        for mode in deterministic:
            agent.act(torch.zeros(agent.config.obs_dim, device=agent.device), deterministic=mode)

    # ------------------------------------------------------------------ parameters
    def on_param_change(self, prefix, change):
        """Queue accepted changes; they apply at the next training phase."""
        with self.pending_lock:
            self.pending.setdefault(prefix, {}).update(change)
        self.get_logger().info(f'accepted {prefix} changes {change}; they apply at the next '
                               'training phase')

    def apply_pending(self):
        """Apply queued parameter changes to the learner."""
        with self.pending_lock:
            pending, self.pending = self.pending, {}
        if 'sac' in pending:
            self.learner.agent.set_hyperparameters(**pending['sac'])
        if 'online' in pending:
            self.learner.set_config(**pending['online'])
        if pending:
            self.get_logger().info(f'applied parameter changes {pending}')

    # ------------------------------------------------------------------ acting
    def on_observation(self, msg: Observation):
        """Answer with an action in [-1, 1]; the stamp says which observation it answers."""
        obs = torch.tensor(list(msg.state), dtype=torch.float32)
        if not torch.isfinite(obs).all():
            self.get_logger().error('observation with NaN/inf: no action sent')
            return
        action = self.learner.agent.act(obs, deterministic=not self.explore)
        out = Action()
        out.header = msg.header
        out.action = action.cpu().tolist()
        self.action_pub.publish(out)

    def on_transition(self, msg: Transition):
        """Store a transition in D_online (refused with the field named if not finite)."""
        try:
            self.learner.add_transitions(
                [list(msg.observation.state)], [list(msg.action)], [msg.reward],
                [list(msg.next_observation.state)], [msg.terminated], [msg.truncated],
                episode_id=[msg.episode_id], step_id=[msg.step_id])
        except ValueError as exc:
            self.get_logger().error(f'transition {msg.episode_id}/{msg.step_id} refused: {exc}')

    def on_event(self, msg: EpisodeEvent):
        """After an episode: train in a worker thread, checkpoint, then start the next."""
        if msg.event == EpisodeEvent.STARTED:
            return
        self.learner.end_episode(msg.episode_return, msg.success)
        self.get_logger().info(
            f'episode {self.learner.episodes}: return {msg.episode_return:.2f}, success '
            f'{msg.success}, {msg.num_steps} steps ({msg.reason})')
        self.training = True
        threading.Thread(target=self.train_and_save, daemon=True).start()

    def train_and_save(self):
        """Run the between-episode training phase (the robot idles meanwhile)."""
        try:
            self.apply_pending()
            started = time.monotonic()
            metrics = self.learner.train_phase()
            metrics['train_s'] = round(time.monotonic() - started, 3)
            if self.learner.history:
                self.learner.history[-1].update(
                    {k: v for k, v in metrics.items() if isinstance(v, (int, float))})
            self.learner.save(self.online_path, extra={'history': self.learner.history})
            with open(os.path.splitext(self.online_path)[0] + '_history.json', 'w') as f:
                json.dump(self.learner.history, f, indent=1)
            self.get_logger().info(f"trained {metrics.get('updates', 0)} updates in "
                                   f"{metrics['train_s']:.1f} s; checkpoint {self.online_path}")
        finally:
            # Collect the training phase's garbage and touch the policy now, while the car
            # idles, rather than inside the first control steps of the next episode (the
            # env's watchdog is 0.1 s); episodes right after training were seen to trip it.
            gc.collect()
            self.touch_policy(True)
            self.training = False
            done = 0 < self.max_episodes <= self.learner.episodes
            if done:
                self.finished.set()
            else:
                self.need_start = True

    def maybe_start(self):
        """Ask the env node for the next episode once training is done."""
        if not self.need_start or self.training or self.start_in_flight:
            return
        if not self.start_client.service_is_ready():
            return
        # The start service can be discovered before the topics are matched; an episode
        # started then loses its first actions to the env's watchdog.
        if (self.action_pub.get_subscription_count() == 0
                or self.count_publishers('/rl/observation') == 0):
            return
        self.start_in_flight = True
        self.start_client.call_async(Trigger.Request()).add_done_callback(self.on_started)

    def on_started(self, future):
        """Retry later if the env was busy."""
        self.start_in_flight = False
        result = future.result()
        if result is not None and result.success:
            self.need_start = False
        elif result is not None:
            self.get_logger().warn(f'start refused: {result.message}', throttle_duration_sec=5)


def main(args=None):
    """Spin with several threads until shutdown or ``agent.max_episodes``."""
    try:
        rclpy.init(args=args)
        try:
            node = AgentNode()
            executor = MultiThreadedExecutor(num_threads=4)
            executor.add_node(node)
            while rclpy.ok() and not node.finished.is_set():
                executor.spin_once(timeout_sec=0.1)
            node.get_logger().info(f'finished {node.learner.episodes} episodes')
        finally:
            rclpy.try_shutdown()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == '__main__':
    main()
