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
        self.get_logger().info(f'recording to {self.recorder.path}')

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
