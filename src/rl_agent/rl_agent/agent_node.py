# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Agent node: acts at control rate and trains between episodes.

Loads the policy's checkpoint (``task.checkpoint``) as pi0 (or resumes its own online
checkpoint), checks that its observation and action match the task it records and that the
D0 bags match it too (refused at start, naming both sides, before anything is written),
answers every ``rl/observation`` (state and, for camera tasks, mono8 images) with an
``rl/action`` (echoing the observation's stamp), stores ``rl/transitions`` in D_online,
and after each episode event runs the training phase in a worker thread (parameter
services stay responsive), saves an atomic checkpoint (agent, optimizers, D_online,
counters, the task) and calls ``rl/start_episode`` for the next episode. Per-episode
returns, per-term returns, task metrics, end reasons and training losses go to TensorBoard
(``<online_checkpoint folder>/tb``) and to the history JSON next to the checkpoint. Every
learner and schedule hyperparameter is a ROS parameter (``sac.*``, ``online.*``) with
description and range; live changes take effect at the next training phase.
"""

import gc
import json
import os
import threading
import time

from rcl_interfaces.msg import IntegerRange, ParameterDescriptor
import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rl_agent.online import load_offline, OnlineConfig, OnlineLearner
from rl_agent.sac import SAC, SACConfig
from rl_core import config_spec, ros_params
from rl_core.ros_messages import pixels_from_images
from rl_core.run_info import check_action_dim, check_observation_spec
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
        self.task, _ = ros_params.declare_task(self)
        checkpoint = self.get_parameter('task.checkpoint').value
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
            raise ValueError('task.checkpoint is empty and no online checkpoint exists at '
                             f'{self.online_path}: nothing to start from')
        source = self.online_path if os.path.isfile(self.online_path) else checkpoint
        pi0 = SAC.load(source, device)
        self.check_agent(pi0, source)
        self.pixel_shape = tuple(self.task.observation_spec.pixel_shape)
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
        if offline is not None:
            check_observation_spec(self.task, offline.obs_dim, offline.pixel_shape or (),
                                   what=f'D0 bags {[b for b in bags if b]}')
            check_action_dim(self.task, offline.action_dim, what='D0 bags')
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
        self.action_pub = self.create_publisher(Action, 'rl/action', 10)
        self.create_subscription(Observation, 'rl/observation', self.on_observation, 10)
        self.create_subscription(Transition, 'rl/transitions', self.on_transition, 1000)
        self.create_subscription(EpisodeEvent, 'rl/episode_events', self.on_event, 10)
        self.start_client = self.create_client(Trigger, 'rl/start_episode')
        self.writer = None
        # Imported now, not in the first training phase: importing tensorboard holds the GIL
        # for a second or more, and the acting thread would wait for it.
        from torch.utils.tensorboard import SummaryWriter
        self.summary_writer_cls = SummaryWriter
        self.pending_transitions = []
        self.transitions_lock = threading.Lock()
        self.training = False
        self.need_start = self.max_episodes == 0 or self.learner.episodes < self.max_episodes
        self.start_in_flight = False
        self.finished = threading.Event()
        if not self.need_start:
            self.finished.set()
        self.create_timer(0.2, self.maybe_start)

    def check_agent(self, agent: SAC, source: str) -> None:
        """Refuse a policy whose observation or action differs from the task's."""
        cfg = agent.config
        check_observation_spec(self.task, cfg.obs_dim, getattr(cfg, 'pixel_shape', ()),
                               what=f'checkpoint {source}')
        check_action_dim(self.task, cfg.action_dim, what=f'checkpoint {source}')

    def act(self, state, pixels=None, deterministic: bool = False) -> torch.Tensor:
        """Return the policy's action for one observation (pixels only for camera tasks)."""
        agent = self.learner.agent
        if pixels is None:
            return agent.act(state, deterministic=deterministic)
        return agent.act(state, deterministic=deterministic, pixels=pixels)

    def touch_policy(self, *deterministic: bool) -> None:
        """Run the policy once per mode on a zero observation (no action is published)."""
        agent = self.learner.agent
        pixels = (torch.zeros(self.pixel_shape, dtype=torch.uint8, device=agent.device)
                  if self.pixel_shape else None)
        for mode in deterministic:
            self.act(torch.zeros(agent.config.obs_dim, device=agent.device), pixels, mode)

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
        try:
            pixels = pixels_from_images(msg.images, self.pixel_shape)
        except ValueError as exc:
            self.get_logger().error(f'observation refused: {exc}; no action sent')
            return
        if pixels is not None:
            pixels = torch.from_numpy(pixels)
        action = self.act(obs, pixels, deterministic=not self.explore)
        out = Action()
        out.header = msg.header
        out.action = action.cpu().tolist()
        self.action_pub.publish(out)

    def on_transition(self, msg: Transition):
        """Queue a transition; it is stored after the episode, off the acting path."""
        with self.transitions_lock:
            self.pending_transitions.append(msg)

    def take_transitions(self, episode_id: int, num_steps: int, timeout_s: float = 2.0):
        """Return the queued transitions once the episode's ``num_steps`` have arrived."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self.transitions_lock:
                have = sum(1 for m in self.pending_transitions if m.episode_id == episode_id)
                if have >= num_steps or time.monotonic() > deadline:
                    taken, self.pending_transitions = self.pending_transitions, []
                    break
            time.sleep(0.01)
        if have < num_steps:
            self.get_logger().warn(f'episode {episode_id}: {have} of {num_steps} transitions '
                                   'arrived; training on those')
        return taken

    def store_transition(self, msg: Transition):
        """Store a transition in D_online (refused with the field named if not finite)."""
        try:
            images = {}
            if self.pixel_shape:
                images = {'pixels': pixels_from_images(msg.observation.images,
                                                       self.pixel_shape)[None],
                          'next_pixels': pixels_from_images(msg.next_observation.images,
                                                            self.pixel_shape)[None]}
            self.learner.add_transitions(
                [list(msg.observation.state)], [list(msg.action)], [msg.reward],
                [list(msg.next_observation.state)], [msg.terminated], [msg.truncated],
                episode_id=[msg.episode_id], step_id=[msg.step_id], **images)
        except ValueError as exc:
            self.get_logger().error(f'transition {msg.episode_id}/{msg.step_id} refused: {exc}')

    def on_event(self, msg: EpisodeEvent):
        """After an episode: train in a worker thread, checkpoint, then start the next."""
        if msg.event == EpisodeEvent.STARTED:
            return
        self.training = True
        threading.Thread(target=self.train_and_save, args=(msg,), daemon=True).start()

    def train_and_save(self, event: EpisodeEvent):
        """Store the episode, run the training phase (the robot idles), checkpoint."""
        try:
            for transition in self.take_transitions(event.episode_id, event.num_steps):
                self.store_transition(transition)
            metrics = dict(zip(event.metric_names, (float(v) for v in event.metric_values)))
            self.learner.end_episode(event.episode_return, event.success, reason=event.reason,
                                     metrics=metrics)
            self.get_logger().info(
                f'episode {self.learner.episodes}: return {event.episode_return:.2f}, success '
                f'{event.success}, {event.num_steps} steps ({event.reason})')
            self.apply_pending()
            started = time.monotonic()
            metrics = self.learner.train_phase()
            metrics['train_s'] = round(time.monotonic() - started, 3)
            if self.learner.history:
                self.learner.history[-1].update(
                    {k: v for k, v in metrics.items() if isinstance(v, (int, float))})
            self.learner.save(self.online_path, extra={**self.task.to_run_info(),
                                                       'history': self.learner.history})
            with open(os.path.splitext(self.online_path)[0] + '_history.json', 'w') as f:
                json.dump(self.learner.history, f, indent=1)
            self.log_episode(self.learner.history[-1] if self.learner.history else {})
            self.get_logger().info(f"trained {metrics.get('updates', 0)} updates in "
                                   f"{metrics['train_s']:.1f} s; checkpoint {self.online_path}")
        finally:
            # With the start-up objects frozen (main) this full collection takes < 1 ms; it
            # took 140-400 ms, holding the GIL, when it traversed them all.
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

    def log_episode(self, row) -> None:
        """Write one episode's scalars to TensorBoard (returns, terms, metrics, losses)."""
        if not row:
            return
        if self.writer is None:
            self.writer = self.summary_writer_cls(os.path.join(
                os.path.dirname(os.path.abspath(self.online_path)), 'tb'))
        step = int(row['episode'])
        for key, value in row.items():
            if key != 'episode' and isinstance(value, (int, float)):
                self.writer.add_scalar(f'online/{key}', float(value), step)
        self.writer.add_text('online/end_reason', str(row.get('reason', '')), step)
        self.writer.flush()

    def maybe_start(self):
        """Ask the env node for the next episode once training is done."""
        if not self.need_start or self.training or self.start_in_flight:
            return
        if not self.start_client.service_is_ready():
            return
        # The start service can be discovered before the topics are matched; an episode
        # started then loses its first actions to the env's watchdog.
        if (self.action_pub.get_subscription_count() == 0
                or self.count_publishers(self.resolve_topic_name('rl/observation')) == 0):
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
    """Spin on one thread until shutdown or ``agent.max_episodes``; training has its own."""
    # One intra-op thread, as in the other nodes: the acting tensors are tiny, and with two
    # OpenMP threads on the shared 2-core machine a training update ran 4-30x slower (each
    # barrier waits for a descheduled peer) while its spinning threads took the cores the
    # acting path needed.
    torch.set_num_threads(1)
    try:
        rclpy.init(args=args)
        try:
            try:
                node = AgentNode()
            except (ValueError, FileNotFoundError) as exc:
                # A refused start (wrong task, checkpoint or D0) is a clear message and a
                # non-zero exit, not a traceback; nothing has been written yet.
                rclpy.logging.get_logger('rl_agent').fatal(f'refusing to start: {exc}')
                return 2
            # Everything alive after start-up (torch, rclpy, the networks: ~310k objects)
            # lives until exit. Frozen, no garbage collection traverses it again: a full
            # collection (automatic, or the one after each training phase) stalled every
            # thread of this process, acting included, for 140-400 ms.
            gc.collect()
            gc.freeze()
            # Every callback runs on this thread; the training phase runs in its own thread,
            # which the executor never waits on. rclpy's MultiThreadedExecutor(4) driven by
            # spin_once re-submitted each ready callback to its pool until a pool thread got
            # the GIL (7.6 submissions per callback measured): observation->action p99 98 ms,
            # max 184 ms, against p99 17 ms single-threaded (README "Benchmarks").
            executor = SingleThreadedExecutor()
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
