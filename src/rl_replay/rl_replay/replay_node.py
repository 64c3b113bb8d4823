# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Replay node: records every transition and episode event of a trial to rosbag2 (MCAP).

Subscribes ``rl/transitions`` and ``rl/episode_events`` as serialised messages (nothing is
decoded or re-encoded; QoS ``ros_qos.RECORD``: reliable, volatile, so a restarted recorder
does not record an old latched event twice) and writes them to ``<bag_root>/<trial_id>``,
one bag per trial, closed into a split at every episode end and pushed to disk every
``replay.sync_period_s`` (see ``TrialBagRecorder``).

Faults:

- A restarted recorder appends to the trial's bag; what the killed one left is salvaged
  (logged). A trial folder holding garbage (e.g. a corrupt ``metadata.yaml``) is never
  touched: the error names the file and the problem, and the trial records to
  ``<trial_id>_2`` beside it (status WARN while it does).
- A write failure is logged and reported as ERROR on ``/diagnostics``; the heartbeat
  ``rl/recorder_alive`` stops (the env aborts the episode and refuses new ones, so no
  episode goes unrecorded), every message is kept in memory and the write is retried every
  second until it succeeds; then the status is OK again.

Status on ``/diagnostics``: OK ``recording`` with the counts (transitions, episodes, bag).
"""

import os

from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.node import Node
from rl_core import ros_executor, ros_qos
from rl_core.ros_diagnostics import Health
from rl_interfaces.msg import EpisodeEvent, Transition
from rl_replay.bag_io import (BagFormatError, EVENT_TOPIC, RecorderWriteError,
                              scan_last_episode_id, TRANSITION_TOPIC, TrialBagRecorder)
from std_msgs.msg import UInt64


def last_episode_id(path) -> int:
    """Return the highest episode id of the bag at ``path`` (0 when none)."""
    from rl_replay.bag_io import iter_events
    try:
        return max((int(e.episode_id) for _, e in iter_events(path)), default=0)
    except Exception:  # noqa: BLE001 - no bag yet, or a damaged one: read the files raw
        try:
            return scan_last_episode_id(path)
        except OSError:
            return 0


class ReplayNode(Node):
    """Writes raw CDR of the RL topics into the trial's bag."""

    def __init__(self, **node_kwargs):
        """Open the trial bag (appending after a restart) and subscribe."""
        super().__init__('rl_replay', **node_kwargs)
        root = self.declare_parameter('replay.bag_root', 'runs/bags', ParameterDescriptor(
            description='Folder holding one bag per trial.', read_only=True)).value
        trial = self.declare_parameter('replay.trial_id', 'trial', ParameterDescriptor(
            description='Trial name (the bag folder name).', read_only=True)).value
        sync_period = self.declare_parameter(
            'replay.sync_period_s', 1.0, ParameterDescriptor(
                description='Write the open split to disk this often (s), so a killed '
                'recorder loses at most this much; 0 disables.', read_only=True,
                floating_point_range=[FloatingPointRange(from_value=0.0, to_value=3600.0)]
            )).value
        self.health = Health(self)
        self.recorder = TrialBagRecorder(os.path.join(root, trial), trial)
        self.diverted = ''
        if self.recorder.diverted_from is not None:
            original, problem = self.recorder.diverted_from
            self.diverted = f'{original} left untouched: {problem}'
            self.get_logger().error(
                f'cannot append to the trial bag {original}: {problem}. Nothing in it is '
                f'changed or deleted; this trial records to {self.recorder.path} instead')
        for note in self.recorder.notes:
            self.get_logger().warn(f'{self.recorder.path}: {note}')
        if self.recorder.existing_files:
            self.get_logger().info(f'appending to {self.recorder.path} '
                                   f'({len(self.recorder.existing_files)} splits there)')
        # Relative subscriptions (a namespace moves the robot); the bag keeps the
        # documented topic names of its layout.
        self.create_subscription(Transition, TRANSITION_TOPIC.lstrip('/'), self.on_transition,
                                 ros_qos.RECORD, raw=True)
        self.create_subscription(EpisodeEvent, EVENT_TOPIC.lstrip('/'), self.on_event,
                                 ros_qos.RECORD, raw=True)
        self.count = 0
        self.episodes = 0
        self.failure = ''
        # Heartbeat for the env node (it aborts an episode whose recorder went silent); it
        # carries the highest episode id in the trial's bag, so a restarted env node never
        # reuses an episode id of this trial.
        self.last_episode = last_episode_id(self.recorder.path)
        if self.recorder.diverted_from is not None:
            self.last_episode = max(self.last_episode,
                                    last_episode_id(self.recorder.diverted_from[0]))
        self.alive_pub = self.create_publisher(UInt64, 'rl/recorder_alive', ros_qos.STEP)
        self.create_timer(0.1, self.heartbeat)
        if sync_period > 0:
            self.create_timer(sync_period, self.sync)
        self.create_timer(1.0, self.retry)
        self.report()
        self.get_logger().info(f'recording to {self.recorder.path}')

    def report(self):
        """Publish the recording status with the counts."""
        values = {'transitions': self.count, 'episodes': self.episodes,
                  'last_episode': self.last_episode, 'bag': str(self.recorder.path)}
        if self.failure:
            self.health.error(f'write failed: {self.failure}; retrying every 1 s, every '
                              'message is kept (heartbeat stopped)', **values)
        elif self.diverted:
            self.health.warn(f'recording to {self.recorder.path.name}; {self.diverted}',
                             **values)
        else:
            self.health.ok('recording', **values)

    def failed(self, exc: Exception):
        """Log and report a write failure; the heartbeat stops until a retry succeeds."""
        first = not self.failure
        self.failure = str(exc)
        self.get_logger().error(f'write failed: {exc}; the messages are kept and the write '
                                'is retried every second', throttle_duration_sec=5.0)
        if first:
            self.report()

    def heartbeat(self):
        """Say the recorder is alive, with the highest episode id recorded so far."""
        if not self.failure:
            self.alive_pub.publish(UInt64(data=int(self.last_episode)))

    def stamp(self) -> int:
        """Receive time in ns."""
        return self.get_clock().now().nanoseconds

    def write(self, topic: str, data: bytes):
        """Write one message; a failure is reported, the message is kept for the retry."""
        try:
            self.recorder.write_raw(topic, data, self.stamp())
        except RecorderWriteError as exc:
            self.failed(exc)

    def on_transition(self, data: bytes):
        """Record one transition."""
        self.write(TRANSITION_TOPIC, data)
        self.count += 1

    def on_event(self, data: bytes):
        """Record an event; an episode end closes the split and lists it in the bag."""
        self.write(EVENT_TOPIC, data)
        from rclpy.serialization import deserialize_message
        event = deserialize_message(data, EpisodeEvent)
        self.last_episode = max(self.last_episode, int(event.episode_id))
        if event.event == EpisodeEvent.STARTED:
            return
        self.episodes += 1
        if self.failure:
            return  # kept; the retry writes it
        try:
            self.recorder.flush()
        except RecorderWriteError as exc:
            self.failed(exc)
            return
        self.get_logger().info(f'episode {event.episode_id} flushed '
                               f'({self.count} transitions so far)')
        self.report()

    def sync(self):
        """Push the open split's messages to disk (a kill then loses at most one period)."""
        if self.failure:
            return
        try:
            self.recorder.sync()
        except RecorderWriteError as exc:
            self.failed(exc)

    def drain(self, executor):
        """After Ctrl-C: take what DDS already delivered (see ``main``) and say how much."""
        before = self.count
        ros_executor.drain(executor, self, lambda: self.count + self.episodes)
        self.get_logger().info(f'stopping: {self.count - before} transitions taken after '
                               f'the stop, {self.count} in all')

    def retry(self):
        """While writing fails: try to write everything kept to a fresh split."""
        if not self.failure:
            return
        try:
            self.recorder.flush()
        except RecorderWriteError as exc:
            self.failed(exc)
            return
        self.get_logger().info(f'writing works again: every kept message is in '
                               f'{self.recorder.path} ({self.count} transitions so far)')
        self.failure = ''
        self.report()


def main(args=None):
    """
    Run until Ctrl-C / SIGTERM; then take what DDS already delivered and flush the split.

    Our own signal handling (``ros_executor.run_node``): a stop never interrupts a
    write, and the recorder drains its readers (until 0.3 s without a message, at most 3 s)
    before the last split is closed, so an episode that ended just before Ctrl-C is in
    the bag even when this process was behind.
    """
    # A refused start (exit 2) has deleted or overwritten nothing in the trial folder.
    return ros_executor.run_node(ReplayNode, 'rl_replay',
                                 (BagFormatError, RecorderWriteError, OSError),
                                 then=ReplayNode.drain, on_exit=close_recorder, args=args)


def close_recorder(node: ReplayNode) -> None:
    """On the way out: close and list the last split (or say why it could not be)."""
    try:
        node.recorder.close()
    except RecorderWriteError as exc:
        node.get_logger().error(f'last split not written: {exc}')


if __name__ == '__main__':
    main()
