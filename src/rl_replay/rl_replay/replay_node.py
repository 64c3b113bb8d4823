# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Replay node: records every transition and episode event of a trial to rosbag2 (MCAP).

Subscribes ``/rl/transitions`` and ``/rl/episode_events`` as serialised messages (nothing is
decoded or re-encoded) and writes them to ``<bag_root>/<trial_id>``, one bag per trial,
flushed at every episode end (see ``TrialBagRecorder``).
"""

import os

from rcl_interfaces.msg import ParameterDescriptor
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rl_interfaces.msg import EpisodeEvent, Transition
from rl_replay.bag_io import EVENT_TOPIC, TRANSITION_TOPIC, TrialBagRecorder
from std_msgs.msg import UInt64


def last_episode_id(path) -> int:
    """Return the highest episode id of the bag at ``path`` (0 when none or unreadable)."""
    from rl_replay.bag_io import iter_events
    try:
        return max((int(e.episode_id) for _, e in iter_events(path)), default=0)
    except Exception:  # noqa: BLE001 - no bag yet, or a partial one: start counting at 0
        return 0


class ReplayNode(Node):
    """Writes raw CDR of the RL topics into the trial's bag."""

    def __init__(self):
        """Open the trial bag and subscribe."""
        super().__init__('rl_replay')
        root = self.declare_parameter('replay.bag_root', 'runs/bags', ParameterDescriptor(
            description='Folder holding one bag per trial.', read_only=True)).value
        trial = self.declare_parameter('replay.trial_id', 'trial', ParameterDescriptor(
            description='Trial name (the bag folder name).', read_only=True)).value
        self.recorder = TrialBagRecorder(os.path.join(root, trial), trial)
        qos = QoSProfile(depth=1000)
        # Relative subscriptions (a namespace moves the robot); the bag keeps the
        # documented topic names of its layout.
        self.create_subscription(Transition, TRANSITION_TOPIC.lstrip('/'), self.on_transition,
                                 qos, raw=True)
        self.create_subscription(EpisodeEvent, EVENT_TOPIC.lstrip('/'), self.on_event, qos,
                                 raw=True)
        self.count = 0
        # Heartbeat for the env node (it aborts an episode whose recorder went silent); it
        # carries the highest episode id in the trial's bag, so a restarted env node never
        # reuses an episode id of this trial.
        self.last_episode = last_episode_id(self.recorder.path)
        self.alive_pub = self.create_publisher(UInt64, 'rl/recorder_alive', 10)
        self.create_timer(0.1, self.heartbeat)
        self.get_logger().info(f'recording to {self.recorder.path}')

    def heartbeat(self):
        """Say the recorder is alive, with the highest episode id recorded so far."""
        self.alive_pub.publish(UInt64(data=int(self.last_episode)))

    def stamp(self) -> int:
        """Receive time in ns."""
        return self.get_clock().now().nanoseconds

    def on_transition(self, data: bytes):
        """Record one transition."""
        self.recorder.write_raw(TRANSITION_TOPIC, data, self.stamp())
        self.count += 1

    def on_event(self, data: bytes):
        """Record an event; an episode end flushes the bag to disk."""
        self.recorder.write_raw(EVENT_TOPIC, data, self.stamp())
        from rclpy.serialization import deserialize_message
        event = deserialize_message(data, EpisodeEvent)
        self.last_episode = max(self.last_episode, int(event.episode_id))
        if event.event != EpisodeEvent.STARTED:
            self.recorder.flush()
            self.get_logger().info(f'episode {event.episode_id} flushed '
                                   f'({self.count} transitions so far)')


def main(args=None):
    """Run until shutdown; the last split is flushed on the way out."""
    try:
        rclpy.init(args=args)
        try:
            node = ReplayNode()
            try:
                rclpy.spin(node)
            finally:
                node.recorder.close()
        finally:
            rclpy.try_shutdown()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == '__main__':
    main()
