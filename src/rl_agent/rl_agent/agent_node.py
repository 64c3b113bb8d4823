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

``agent.role`` splits acting from learning across processes (or machines): ``actor`` acts
with the weights a ``learner`` publishes on ``rl/policy_weights`` (rl_interfaces/
PolicyWeights; loaded on the executor thread, so always between two control steps; older
versions, another task or other tensors refused with the reason; a learner silent for
``agent.learner_timeout_s`` reported while the actor acts on with its last weights) and
requests episodes back to back; ``learner`` stores ``rl/transitions`` as they arrive,
trains while the episodes run (``online.utd`` updates per transition after the warm
start), publishes the weights every ``agent.weights_period_s`` and checkpoints every
``agent.checkpoint_period_s``. The default ``actor_learner`` does both, as described above.

Faults (nothing is silent, nothing is lost):

- **Training or checkpoint failure** (any exception in the worker thread): the agent
  pauses (asks for no further episode), logs the exception with its traceback, reports
  ERROR ``training failed: <exception>`` on ``/diagnostics`` and keeps every transition
  (they are in D_online before training starts; after a failed training phase the agent is
  checkpointed if its networks are still finite). Episodes that still end (started by
  someone else) are stored, not trained on. ``rl/resume_training`` (std_srvs/Trigger)
  retries on purpose: the failed training phase is run again in full (with the steps of
  any episode stored since), then the checkpoint; a second failure pauses again.
  ``rl/pause_training`` pauses on request (the running episode is finished and trained
  on; WARN ``paused``); ``rl/resume_training`` resumes.
- **Parameter changes** are checked whole at set time (the full config they give must be
  valid); ``sac.cuda_graph`` is refused at set time (it needs a CUDA device and optimizers
  built for it at start: set it in the parameter file), and ``sac.seed``, ``online.seed``,
  ``sac.normalize_obs``, ``sac.init_temperature`` and ``sac.actor_init_std`` are read-only
  (they act only at start or would change what the trained networks see). A queued change
  that still fails to apply at the training phase stays queued (retried at every phase, a
  newer value replaces it), is logged with the reason and reported as WARN; training goes
  on with the values in effect.
- **Observations** whose state size differs from the policy's ``obs_dim``, or with
  NaN/inf, or with wrong images, get no action (the env's watchdog then stops the robot):
  a throttled error names the sizes, ``/diagnostics`` says WARN for 5 s.

QoS (``rl_core.ros_qos``): observations STEP, actions COMMAND, transitions RECORD; the
episode events (published LATCHED) are subscribed reliable and volatile, so a restarted
agent does not train on old events again.

Status on ``/diagnostics``: OK ``acting`` / OK ``training (N updates)`` / WARN ``paused`` /
WARN observation or parameter problems / ERROR ``training failed: ...``.
"""

import copy
import gc
import os
import threading
import time
import traceback

from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
from rclpy.node import Node
from rl_agent import policy_weights
from rl_agent.online import load_offline, OnlineConfig, OnlineLearner
from rl_agent.sac import SAC, SACConfig, save_json_atomic
from rl_core import config_spec, ros_executor, ros_params, ros_qos
from rl_core.ros_diagnostics import Health
from rl_core.ros_messages import pixels_from_images
from rl_core.run_info import check_action_dim, check_observation_spec
from rl_interfaces.msg import Action, EpisodeEvent, Observation, PolicyWeights, Transition
from std_srvs.srv import Trigger
import torch


# Parameters that act only at start (or would change what the trained networks see): they
# are made read-only, with the reason appended to their description.
STARTUP_ONLY = {
    'sac.seed': 'seeds network initialisation and policy noise once, at start',
    'online.seed': 'seeds batch sampling once, at start',
    'sac.init_temperature': 'sets alpha once, at start (it is learned afterwards)',
    'sac.actor_init_std': 'initialises the policy once, at start (it is learned afterwards)',
    'sac.normalize_obs': 'the networks were trained on (un)normalised observations; '
                         'switching would change what the policy sees',
}
OBS_WARN_S = 5.0  # an observation problem stays on /diagnostics this long
LOG_EVERY_S = 2.0  # throttle of repeated observation errors (per kind)


START_ANSWER_S = 5.0  # s to wait for an answer of rl/start_episode before asking again
ROLES = ('actor_learner', 'actor', 'learner')
LEARN_CHUNK = 16  # a separate learner's updates between two looks at new data and weights


class AgentNode(Node):
    """SAC agent with the sim-to-online stabilizers behind the RL topics."""

    def __init__(self, **node_kwargs):
        """Load pi0 or resume, declare parameters, wire topics (``node_kwargs``: to Node)."""
        super().__init__('rl_agent', **node_kwargs)

        def param(name, default, text, **kw):
            return self.declare_parameter(name, default, ParameterDescriptor(
                description=text, read_only=True, **kw)).value
        self.task, plugin = ros_params.declare_task(self)
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
        self.episode_timeout_s = param(
            'agent.episode_timeout_s', 3.0, 'An episode that started but sent no observation '
            'for this long is given up (the env node died mid-episode): its transitions are '
            'kept and the next episode is requested (s).',
            floating_point_range=[FloatingPointRange(from_value=0.1, to_value=3600.0)])
        self.role = param(
            'agent.role', 'actor_learner', "Where training runs. 'actor_learner': act, and "
            "train between episodes in this process. 'actor': act with the weights a learner "
            "node publishes on rl/policy_weights (no training here). 'learner': train from "
            'rl/transitions while episodes run (utd updates per transition) and publish the '
            'policy weights every agent.weights_period_s (no acting).')
        if self.role not in ROLES:
            raise ValueError(f'agent.role {self.role!r} is not one of {list(ROLES)}')
        self.weights_period_s = param(
            'agent.weights_period_s', 2.0, 'Learner: period of the policy weights on '
            'rl/policy_weights (also its heartbeat: unchanged weights are sent again) (s).',
            floating_point_range=[FloatingPointRange(from_value=0.05, to_value=3600.0)])
        self.learner_timeout_s = param(
            'agent.learner_timeout_s', 10.0, 'Actor: no policy weights for this long and '
            'the learner is reported silent (WARN); the actor keeps acting with its last '
            'weights (s).',
            floating_point_range=[FloatingPointRange(from_value=0.1, to_value=86400.0)])
        self.checkpoint_period_s = param(
            'agent.checkpoint_period_s', 30.0, 'Learner: period of its online checkpoint '
            'while it trains (s).',
            floating_point_range=[FloatingPointRange(from_value=1.0, to_value=86400.0)])
        if not checkpoint and not os.path.isfile(self.online_path):
            raise ValueError('task.checkpoint is empty and no online checkpoint exists at '
                             f'{self.online_path}: nothing to start from')
        source = self.online_path if os.path.isfile(self.online_path) else checkpoint
        self.cuda = torch.device(device).type == 'cuda'
        # CUDA graphs are this agent's execution mode, not the checkpoint's: off the GPU a
        # checkpoint saved with them loads eagerly; sac.cuda_graph decides below.
        pi0 = SAC.load(source, device) if self.cuda else SAC.load(source, device,
                                                                  cuda_graph=False)
        self.check_agent(pi0, source)
        self.pixel_shape = tuple(self.task.observation_spec.pixel_shape)
        sac_cfg = ros_params.declare_config(self, SACConfig, 'sac', pi0.config)
        online_cfg = ros_params.declare_config(self, OnlineConfig, 'online')
        if sac_cfg.cuda_graph != pi0.config.cuda_graph:
            if not self.cuda:
                raise ValueError(f'sac.cuda_graph=true needs a CUDA device; agent.device is '
                                 f'{device!r}')
            pi0 = SAC.load(source, device, cuda_graph=sac_cfg.cuda_graph)
        self.cuda_graph = sac_cfg.cuda_graph  # optimizers are built for it (or not) now
        live = {k: v for k, v in config_spec.to_dict(sac_cfg).items()
                if not SACConfig.__dataclass_fields__[k].metadata.get('read_only')}
        pi0.set_hyperparameters(**{k: tuple(v) if isinstance(v, list) else v
                                   for k, v in live.items()})
        for name, why in STARTUP_ONLY.items():
            descriptor = copy.deepcopy(self.describe_parameter(name))
            descriptor.read_only = True
            descriptor.description += f' Start-up only: {why}.'
            self.set_descriptor(name, descriptor)
        self.pending = {}
        self.pending_lock = threading.Lock()
        self.param_problem = ''
        # An actor trains nothing: D0 stays with the learner.
        offline = load_offline([b for b in bags if b and self.role != 'actor'], device)
        if offline is not None:
            check_observation_spec(self.task, offline.obs_dim, offline.pixel_shape or (),
                                   what=f'D0 bags {[b for b in bags if b]}')
            check_action_dim(self.task, offline.action_dim, what='D0 bags')
        self.learner = OnlineLearner(pi0, online_cfg, offline)
        self.obs_dim = pi0.config.obs_dim
        ros_params.add_validation(self, {'sac': SACConfig, 'online': OnlineConfig},
                                  self.on_param_change)
        # Added last, so it runs first: a refused change is never queued.
        self.add_on_set_parameters_callback(self.check_live_change)
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
        self.weights_version = 0  # the newest weights from a learner (0: none yet)
        self.weights_seen = None  # when an actor last heard from its learner (monotonic)
        self.started_at = time.monotonic()
        self.learner_silent = False
        self.learn_lock = threading.Lock()  # a separate learner's data vs its training
        self.credit = 0.0  # a separate learner's updates owed to the data it received
        if self.role != 'learner':
            self.action_pub = self.create_publisher(Action, 'rl/action', ros_qos.COMMAND)
            self.create_subscription(Observation, 'rl/observation', self.on_observation,
                                     ros_qos.STEP)
        if self.role != 'actor':
            self.create_subscription(Transition, 'rl/transitions', self.on_transition,
                                     ros_qos.RECORD)
        if self.role == 'actor':
            self.create_subscription(PolicyWeights, 'rl/policy_weights', self.on_weights,
                                     ros_qos.WEIGHTS)
        if self.role == 'learner':
            self.weights_pub = self.create_publisher(PolicyWeights, 'rl/policy_weights',
                                                     ros_qos.WEIGHTS)
            self.create_timer(self.weights_period_s, self.publish_weights)
        # The env publishes episode events LATCHED (transient local); this subscription is
        # volatile, so a restarted agent does not receive (and train on) old events again.
        self.create_subscription(EpisodeEvent, 'rl/episode_events', self.on_event,
                                 ros_qos.STEP)
        self.start_client = self.create_client(Trigger, 'rl/start_episode')
        self.create_service(Trigger, 'rl/resume_training', self.on_resume)
        self.create_service(Trigger, 'rl/pause_training', self.on_pause)
        self.writer = None
        self.running_episode = None
        self.last_observation = time.monotonic()
        self.start_future = None
        self.start_sent = 0.0
        # Imported now, not in the first training phase: importing tensorboard holds the GIL
        # for a second or more, and the acting thread would wait for it.
        from torch.utils.tensorboard import SummaryWriter
        self.summary_writer_cls = SummaryWriter
        self.pending_transitions = []
        self.transitions_lock = threading.Lock()
        self.training = False
        self.planned_updates = 0
        self.last_updates = 0
        self.failure = ''        # why training failed ('' when it did not)
        self.untrained_steps = 0  # steps of a failed training phase, trained on at resume
        self.paused = False       # paused on request (rl/pause_training)
        self.obs_problem = ('', 0.0)
        self.obs_logged = {}
        self.need_start = self.role != 'learner' and (
            self.max_episodes == 0 or self.learner.episodes < self.max_episodes)
        self.start_in_flight = False
        self.finished = threading.Event()
        if 0 < self.max_episodes <= self.learner.episodes:
            self.finished.set()
        self.health = Health(self, hardware_id=plugin.robot)
        if self.role != 'learner':
            self.create_timer(0.2, self.maybe_start)
        self.create_timer(1.0, self.update_health)
        self.update_health()
        self.learn_thread = None
        self.weights_msg = None
        if self.role == 'learner':
            self.learn_thread = threading.Thread(target=self.learn_loop, daemon=True)
            self.learn_thread.start()

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

    # ------------------------------------------------------------------ health
    def update_health(self) -> None:
        """Report the agent's state on /diagnostics (at once when it changes, and at 1 Hz)."""
        learner = self.learner
        values = {'episodes': learner.episodes, 'online_transitions': len(learner.online),
                  'gradient_steps': learner.gradient_steps, 'last_updates': self.last_updates}
        if self.role != 'actor_learner':
            values['weights_version'] = self.weights_version
        obs_problem, since = self.obs_problem
        if obs_problem and time.monotonic() - since > OBS_WARN_S:
            obs_problem = ''
        silent = self.learner_silence()
        if silent and not self.learner_silent:
            self.learner_silent = True
            self.get_logger().warn(silent)
        if self.failure:
            self.health.error(f'training failed: {self.failure}; paused (fix the cause, then '
                              'call rl/resume_training)', **values)
        elif self.paused:
            self.health.warn('paused (rl/pause_training); call rl/resume_training', **values)
        elif self.param_problem:
            self.health.warn(f'parameter changes not applied (kept queued): '
                             f'{self.param_problem}', **values)
        elif obs_problem:
            self.health.warn(obs_problem, **values)
        elif silent:
            self.health.warn(silent, **values)
        elif self.role == 'learner':
            self.health.ok(f'learning ({learner.gradient_steps} updates, weights version '
                           f'{self.weights_version} published)', **values)
        elif self.role == 'actor':
            self.health.ok(f"acting with the learner's weights (version "
                           f'{self.weights_version})', **values)
        elif self.training:
            self.health.ok(f'training ({self.planned_updates} updates)', **values)
        else:
            self.health.ok('acting', **values)

    def learner_silence(self) -> str:
        """Return an actor's complaint about its learner ('' when it is heard from)."""
        if self.role != 'actor':
            return ''
        now = time.monotonic()
        if self.weights_seen is None:
            if now - self.started_at <= self.learner_timeout_s:
                return ''
            return (f'no policy weights from a learner on rl/policy_weights for '
                    f'{now - self.started_at:.0f} s since start: acting with the start policy')
        if now - self.weights_seen <= self.learner_timeout_s:
            return ''
        return (f'learner silent for {now - self.weights_seen:.0f} s: acting with its last '
                f'weights (version {self.weights_version})')

    # ------------------------------------------------------------------ separate learner
    def on_weights(self, msg: PolicyWeights) -> None:
        """
        Act with newer weights from the learner from the next observation on.

        Runs on the executor thread that also answers observations, so the swap always
        falls between two control steps. The same version again is the learner's
        heartbeat; an older one (stale), another task or other tensors are refused with
        the reason, and the actor keeps its weights.
        """
        if msg.task == self.task.NAME and msg.version == self.weights_version:
            self.weights_seen = time.monotonic()
            return
        try:
            tensors = policy_weights.from_message(msg, self.task.NAME, self.weights_version)
            self.learner.agent.load_policy_tensors(tensors)
        except ValueError as exc:
            self.refuse_observation('weights', f'policy weights refused: {exc}')
            return
        if self.learner_silent or self.weights_version == 0:
            self.get_logger().info(f"acting with the learner's weights, version {msg.version}")
        self.learner_silent = False
        self.weights_version = int(msg.version)
        self.weights_seen = time.monotonic()

    def publish_weights(self) -> None:
        """Learner: send the acting tensors (the same version again as a heartbeat)."""
        if self.weights_version != self.learner.gradient_steps or self.weights_msg is None:
            with self.learn_lock:
                version = self.learner.gradient_steps
                tensors = self.learner.agent.policy_tensors()
            self.weights_msg = policy_weights.to_message(tensors, version, self.task.NAME)
            self.weights_version = version
        self.weights_msg.header.stamp = self.get_clock().now().to_msg()
        self.weights_pub.publish(self.weights_msg)

    def learn_loop(self) -> None:
        """
        Learner: store arriving transitions and train while episodes run.

        Each transition stored after the warm start (``online.warm_start_episodes`` ended
        episodes and ``online.min_replay`` transitions) earns ``online.utd`` updates, run in
        chunks so new data and the weights timer get the learner between chunks. Checkpoints
        every ``agent.checkpoint_period_s`` and when it stops. A failure pauses training
        (data are still stored) until rl/resume_training.
        """
        last_save, saved = time.monotonic(), None
        while not self.finished.is_set():
            with self.transitions_lock:
                taken, self.pending_transitions = self.pending_transitions, []
            with self.learn_lock:
                warm = self.learner.warm
                for msg in taken:
                    self.store_transition(msg)
                if warm:
                    self.credit += self.learner.config.utd * len(taken)
            updates = min(LEARN_CHUNK, int(self.credit))
            if updates and not (self.failure or self.paused):
                try:
                    if self.pending:
                        self.apply_pending()
                    with self.learn_lock:
                        self.learner.train(updates)
                    self.credit -= updates
                except Exception as exc:  # noqa: BLE001 - reported; training pauses
                    self.fail('training', exc, 0)
            elif not taken:
                time.sleep(0.02)
            progress = (self.learner.gradient_steps, len(self.learner.online),
                        self.learner.episodes)
            if time.monotonic() - last_save > self.checkpoint_period_s and progress != saved:
                last_save, saved = time.monotonic(), progress
                with self.learn_lock:
                    self.checkpoint_if_sane('(periodic)')
        with self.learn_lock:
            self.checkpoint_if_sane('at the end')

    def note_episode(self, msg: EpisodeEvent) -> None:
        """Actor or learner: record an episode's outcome (no training phase here)."""
        metrics = dict(zip(msg.metric_names, (float(v) for v in msg.metric_values)))
        with self.learn_lock:
            self.learner.episode_steps = msg.num_steps
            self.learner.end_episode(msg.episode_return, msg.success, reason=msg.reason,
                                     metrics={**metrics,
                                              'weights_version': self.weights_version,
                                              'wall_s': round(time.monotonic()
                                                              - self.started_at, 2)})
            row = self.learner.history[-1]
        if self.role == 'actor':
            # The learner owns the online checkpoint; the actor keeps only its episodes.
            save_json_atomic(self.learner.history,
                             os.path.splitext(self.online_path)[0] + '_actor_history.json')
        self.get_logger().info(
            f'episode {self.learner.episodes}: return {msg.episode_return:.2f}, success '
            f'{msg.success}, {msg.num_steps} steps ({msg.reason}); weights version '
            f'{self.weights_version}')
        self.log_episode(row)
        if 0 < self.max_episodes <= self.learner.episodes:
            self.finished.set()
        elif self.role == 'actor' and not self.paused:
            self.need_start = True
        self.update_health()

    # ------------------------------------------------------------------ parameters
    def check_live_change(self, params) -> SetParametersResult:
        """Refuse, at set time, changes that would fail or misbehave when applied."""
        changes = {'sac': {}, 'online': {}}
        for p in params:
            prefix, _, name = p.name.partition('.')
            if prefix in changes:
                changes[prefix][name] = tuple(p.value) if isinstance(p.value, list) else p.value
        graph = changes['sac'].get('cuda_graph')
        if graph is not None and bool(graph) != self.cuda_graph:
            if graph and not self.cuda:
                reason = ('sac.cuda_graph=true needs a CUDA device; this agent runs on '
                          f'{self.learner.agent.device} (agent.device is read-only): every '
                          'training phase would fail')
            else:
                reason = (f'sac.cuda_graph cannot change at run time: the optimizers were '
                          f'built {"for" if self.cuda_graph else "without"} CUDA graphs at '
                          'start; set it in the parameter file and restart the agent')
            return SetParametersResult(successful=False, reason=reason)
        # The whole config the change gives (with what is queued) must be valid now, not
        # only each value on its own: cross-field rules would fail at the training phase.
        with self.pending_lock:
            queued = {k: dict(v) for k, v in self.pending.items()}
        for prefix, config in (('sac', self.learner.agent.config),
                               ('online', self.learner.config)):
            if not changes[prefix]:
                continue
            try:
                config_spec.replace(config, **{**queued.get(prefix, {}), **changes[prefix]})
            except (ValueError, TypeError) as exc:
                return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    def on_param_change(self, prefix, change):
        """Queue accepted changes; they apply at the next training phase."""
        with self.pending_lock:
            self.pending.setdefault(prefix, {}).update(change)
        self.get_logger().info(f'accepted {prefix} changes {change}; they apply at the next '
                               'training phase')

    def apply_pending(self):
        """
        Apply queued parameter changes to the learner.

        A prefix whose changes fail to apply keeps them queued (a value set meanwhile
        replaces the queued one); the reason is logged and reported on /diagnostics, and
        they are tried again at the next training phase.
        """
        with self.pending_lock:
            pending = {k: dict(v) for k, v in self.pending.items() if v}
        applied, problems = {}, []
        for prefix, apply in (('sac', self.learner.agent.set_hyperparameters),
                              ('online', self.learner.set_config)):
            changes = pending.get(prefix)
            if not changes:
                continue
            try:
                apply(**changes)
            except Exception as exc:  # noqa: BLE001 - reported; the changes stay queued
                problems.append(f'{prefix} {changes}: {type(exc).__name__}: {exc}')
                continue
            applied[prefix] = changes
            with self.pending_lock:
                queued = self.pending.get(prefix, {})
                for key, value in changes.items():
                    if key in queued and queued[key] == value:
                        del queued[key]  # a value set since then stays queued
                if not queued:
                    self.pending.pop(prefix, None)
        self.param_problem = '; '.join(problems)
        if problems:
            self.get_logger().error(
                f'parameter changes not applied, kept queued for the next training phase: '
                f'{self.param_problem}')
        if applied:
            self.get_logger().info(f'applied parameter changes {applied}')
        self.update_health()

    # ------------------------------------------------------------------ acting
    def refuse_observation(self, kind: str, message: str) -> None:
        """Log (throttled per kind) and report an observation that gets no action."""
        now = time.monotonic()
        if now - self.obs_logged.get(kind, -LOG_EVERY_S) >= LOG_EVERY_S:
            self.obs_logged[kind] = now
            self.get_logger().error(message)
        changed = self.obs_problem[0] != message or now - self.obs_problem[1] > OBS_WARN_S
        self.obs_problem = (message, now)
        if changed:
            self.update_health()

    def on_observation(self, msg: Observation):
        """Answer with an action in [-1, 1]; the stamp says which observation it answers."""
        self.last_observation = time.monotonic()
        if len(msg.state) != self.obs_dim:
            self.refuse_observation('size', f'observation of {len(msg.state)} state values, '
                                    f'the policy takes {self.obs_dim}: no action sent')
            return
        obs = torch.tensor(list(msg.state), dtype=torch.float32)
        if not torch.isfinite(obs).all():
            self.refuse_observation('finite', 'observation with NaN/inf: no action sent')
            return
        try:
            pixels = pixels_from_images(msg.images, self.pixel_shape)
        except ValueError as exc:
            self.refuse_observation('images', f'observation refused: {exc}; no action sent')
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

    # ------------------------------------------------------------------ training
    def on_event(self, msg: EpisodeEvent):
        """After an episode: train in a worker thread, checkpoint, then start the next."""
        if msg.event == EpisodeEvent.STARTED:
            self.running_episode = msg.episode_id
            self.last_observation = time.monotonic()
            return
        self.running_episode = None
        if self.role != 'actor_learner':
            self.note_episode(msg)
            return
        self.training = True
        threading.Thread(target=self.train_and_save, args=(msg,), daemon=True).start()

    def store_episode(self, event: EpisodeEvent) -> None:
        """Store the episode's transitions in D_online and its outcome in the history."""
        for transition in self.take_transitions(event.episode_id, event.num_steps):
            self.store_transition(transition)
        metrics = dict(zip(event.metric_names, (float(v) for v in event.metric_values)))
        metrics['wall_s'] = round(time.monotonic() - self.started_at, 2)  # since start
        self.learner.end_episode(event.episode_return, event.success, reason=event.reason,
                                 metrics=metrics)
        self.get_logger().info(
            f'episode {self.learner.episodes}: return {event.episode_return:.2f}, success '
            f'{event.success}, {event.num_steps} steps ({event.reason})')

    def train_and_save(self, event: EpisodeEvent):
        """Store the episode, run the training phase (the robot idles), checkpoint."""
        try:
            try:
                self.store_episode(event)
            except Exception as exc:  # noqa: BLE001 - reported; training pauses
                self.fail('storing the episode', exc, 0)  # its steps stay counted
                return
            if self.failure:
                self.get_logger().warn(
                    f'episode {self.learner.episodes} stored in D_online; training stays '
                    f'paused after the failure ({self.failure}): call rl/resume_training')
                self.checkpoint_if_sane('while paused')
                return
            self.train_then_save()
        finally:
            self.after_training()

    def train_then_save(self, extra_steps: int = 0, retry: bool = False) -> bool:
        """Run the training phase, then checkpoint; on failure pause and report."""
        steps = self.learner.episode_steps + extra_steps
        stage = 'training phase'
        try:
            self.apply_pending()
            cfg = self.learner.config
            self.planned_updates = (int(round(cfg.utd * steps)) if self.learner.warm else 0)
            self.update_health()
            started = time.monotonic()
            if retry and not steps:  # only the checkpoint failed: the phase is done
                metrics = {'updates': 0}
            else:
                metrics = self.learner.train_phase(steps)
            metrics['train_s'] = round(time.monotonic() - started, 3)
            self.last_updates = int(metrics.get('updates', 0))
            if self.learner.history and (steps or not retry):
                self.learner.history[-1].update(
                    {k: v for k, v in metrics.items() if isinstance(v, (int, float))})
            stage = 'checkpoint'
            self.save()
            self.log_episode(self.learner.history[-1] if self.learner.history else {})
        except Exception as exc:  # noqa: BLE001 - reported; training pauses
            self.fail(stage, exc, steps if stage == 'training phase' else 0)
            return False
        if retry and not steps:
            self.get_logger().info(f'checkpoint {self.online_path} written')
        else:
            self.get_logger().info(f"trained {metrics.get('updates', 0)} updates in "
                                   f"{metrics['train_s']:.1f} s; checkpoint {self.online_path}")
        self.failure = ''
        self.untrained_steps = 0
        return True

    def save(self) -> None:
        """Write the online checkpoint (atomic) and the history JSON next to it."""
        self.learner.save(self.online_path, extra={**self.task.to_run_info(),
                                                   'history': self.learner.history})
        # Atomic like the checkpoint: a reader (rqt, a test, a plot) never sees half a file.
        save_json_atomic(self.learner.history,
                         os.path.splitext(self.online_path)[0] + '_history.json')

    def fail(self, stage: str, exc: Exception, untrained_steps: int) -> None:
        """Pause after a failure: log it, report ERROR, keep the data (checkpoint if sane)."""
        self.failure = f'{type(exc).__name__}: {exc} (in the {stage})'
        self.untrained_steps = untrained_steps
        self.need_start = False
        self.get_logger().error(
            f'training failed: {self.failure}. Paused: no further episode is requested; '
            f'{len(self.learner.online)} transitions are kept in D_online. Fix the cause, '
            f'then call rl/resume_training.\n{traceback.format_exc()}')
        if stage != 'checkpoint':
            self.checkpoint_if_sane('after the failure')
        self.update_health()

    def checkpoint_if_sane(self, when: str) -> None:
        """Checkpoint (D_online included) unless the networks hold NaN/inf; log the outcome."""
        agent = self.learner.agent
        nets = [agent.actor, agent.critic, agent.critic_target, agent.encoder]
        tensors = [p for net in nets if net is not None for p in net.parameters()]
        if not all(bool(torch.isfinite(t).all()) for t in tensors + [agent.log_alpha]):
            self.get_logger().error(f'not checkpointed {when}: the networks hold NaN/inf; '
                                    f'the last good checkpoint {self.online_path} is kept')
            return
        try:
            self.save()
            self.get_logger().info(f'checkpoint {self.online_path} written {when} '
                                   f'({len(self.learner.online)} online transitions)')
        except Exception as exc:  # noqa: BLE001 - the failure itself is reported already
            self.get_logger().error(f'checkpoint {when} failed: {type(exc).__name__}: {exc}')

    def after_training(self) -> None:
        """Tidy up after a training phase and decide whether to ask for the next episode."""
        # With the start-up objects frozen (main) this full collection takes < 1 ms; it
        # took 140-400 ms, holding the GIL, when it traversed them all.
        # Collect the training phase's garbage and touch the policy now, while the car
        # idles, rather than inside the first control steps of the next episode (the
        # env's watchdog is 0.1 s); episodes right after training were seen to trip it.
        gc.collect()
        try:
            self.touch_policy(True)
        except Exception as exc:  # noqa: BLE001 - acting reports its own errors
            self.get_logger().error(f'policy warm-up failed: {exc}')
        self.training = False
        if not self.failure:
            if 0 < self.max_episodes <= self.learner.episodes:
                self.finished.set()
            elif not self.paused:
                self.need_start = True
        self.update_health()

    def retry_training(self) -> None:
        """Resume after a failure: rerun the failed training phase, then checkpoint."""
        try:
            if self.train_then_save(self.untrained_steps, retry=True):
                self.get_logger().info('training resumed: the failed phase and the '
                                       'checkpoint succeeded')
        finally:
            self.after_training()

    def on_resume(self, request, response):
        """Retry after a training failure, or end a pause (std_srvs/Trigger)."""
        if self.training:
            response.success = False
            response.message = 'a training phase is running; call again when it is done'
        elif self.failure and self.role == 'learner':
            response.success = True
            response.message = f'training resumed after: {self.failure}'
            self.get_logger().info(f'rl/resume_training: {response.message}')
            self.failure = ''
        elif self.failure:
            response.success = True
            response.message = (f'retrying after: {self.failure}; /diagnostics and the log '
                                'say how it went')
            self.get_logger().info(f'rl/resume_training: {response.message}')
            self.paused = False
            self.training = True
            threading.Thread(target=self.retry_training, daemon=True).start()
        elif self.paused:
            self.paused = False
            self.need_start = not self.finished.is_set()
            response.success = True
            response.message = 'resumed: the next episode will be requested'
            self.get_logger().info(f'rl/resume_training: {response.message}')
        else:
            response.success = True
            response.message = 'not paused: nothing to resume'
        self.update_health()
        return response

    def on_pause(self, request, response):
        """Stop asking for episodes (a running episode is finished and trained on)."""
        self.paused = True
        self.need_start = False
        response.success = True
        response.message = ('paused: no further episode is requested (a running one is '
                            'finished and trained on); call rl/resume_training to go on')
        self.get_logger().info(f'rl/pause_training: {response.message}')
        self.update_health()
        return response

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
        """Ask the env node for the next episode once training is done (not when paused)."""
        if (self.running_episode is not None
                and time.monotonic() - self.last_observation > self.episode_timeout_s):
            # The env node died mid-episode (no end event will come). Its transitions stay
            # queued and are stored with the next episode; a restarted env continues the
            # trial's episode ids from the recorder.
            self.get_logger().error(
                f'episode {self.running_episode}: no observation for '
                f'{time.monotonic() - self.last_observation:.1f} s, the env node is gone; '
                'giving the episode up and asking for the next one')
            self.running_episode = None
            self.need_start = not self.finished.is_set()
        if self.start_in_flight and time.monotonic() - self.start_sent > START_ANSWER_S:
            # The request went to a server that died (a killed env node stays in the DDS
            # graph until its lease runs out): forget it and ask again.
            self.get_logger().warn(f'no answer from rl/start_episode within '
                                   f'{START_ANSWER_S:g} s; asking again')
            self.start_client.remove_pending_request(self.start_future)
            self.start_in_flight = False
        if (not self.need_start or self.training or self.start_in_flight or self.paused
                or self.failure):
            return
        if not self.start_client.service_is_ready():
            return
        # The start service can be discovered before the topics are matched; an episode
        # started then loses its first actions to the env's watchdog.
        if (self.action_pub.get_subscription_count() == 0
                or self.count_publishers(self.resolve_topic_name('rl/observation')) == 0):
            return
        self.start_in_flight = True
        self.start_sent = time.monotonic()
        self.start_future = self.start_client.call_async(Trigger.Request())
        self.start_future.add_done_callback(self.on_started)

    def on_started(self, future):
        """Retry later if the env was busy."""
        if future is not self.start_future:
            return  # an answer to a request already given up
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
    # Ctrl-C / SIGTERM end the spin between turns (ros_executor.run_node): with
    # rclpy's handler a KeyboardInterrupt raised inside an events-executor callback
    # aborted the process ("terminate called without an active exception") before the
    # learner's final checkpoint.
    # A refused start (wrong task, checkpoint or D0) is a clear message and exit 2, not a
    # traceback; nothing has been written yet.
    # Every callback runs on this thread; the training phase runs in its own thread, which
    # the executor never waits on. rclpy's MultiThreadedExecutor(4) driven by spin_once
    # re-submitted each ready callback to its pool until a pool thread got the GIL (7.6
    # submissions per callback measured): observation->action p99 98 ms, max 184 ms,
    # against p99 17 ms single-threaded (README "Benchmarks"). The events executor where
    # rclpy has it (rl_core.ros_executor), else the single-threaded one.
    return ros_executor.run_node(build_frozen, 'rl_agent', (ValueError, FileNotFoundError),
                                 until=lambda node: node.finished.is_set(),
                                 on_exit=finish, args=args)


def build_frozen() -> AgentNode:
    """Build the node, then freeze what is alive from the garbage collector's view."""
    node = AgentNode()
    # Everything alive after start-up (torch, rclpy, the networks: ~310k objects) lives
    # until exit. Frozen, no garbage collection traverses it again: a full collection
    # (automatic, or the one after each training phase) stalled every thread of this
    # process, acting included, for 140-400 ms.
    gc.collect()
    gc.freeze()
    return node


def finish(node: AgentNode) -> None:
    """On the way out (Ctrl-C / SIGTERM too): let the learner write its final checkpoint."""
    if node.learn_thread is not None:
        node.finished.set()
        node.learn_thread.join()
    node.get_logger().info(f'finished {node.learner.episodes} episodes')


if __name__ == '__main__':
    main()
