# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
QoS chosen per stream, in one place, for every node of every robot.

- ``SENSOR``: high-rate measurements (mocap poses, odometry, joint states, camera frames):
  best effort, keep last 5, volatile (``qos_profile_sensor_data``). A best-effort
  subscriber also matches a reliable publisher, so a driver that publishes reliably still
  connects; a reliable subscriber would never match a best-effort mocap system.
- ``COMMAND``: actuator commands and the agent's actions: reliable, keep last 1 (only the
  newest command matters), volatile.
- ``STEP``: observations: reliable, keep last 10.
- ``RECORD``: transitions: reliable, keep last 1000 (the recorder must not drop steps).
- ``LATCHED``: e-stop and episode status: reliable, transient local, keep last 10, so a
  node started later (or restarted) still receives an e-stop published before it existed.
- ``WEIGHTS``: policy weights from a learner node: reliable, transient local, keep last 1
  (only the newest matters; an actor started later still gets it at once).
"""

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, qos_profile_sensor_data, QoSProfile,
                       ReliabilityPolicy)

SENSOR = qos_profile_sensor_data
COMMAND = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     history=HistoryPolicy.KEEP_LAST, durability=DurabilityPolicy.VOLATILE)
STEP = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                  history=HistoryPolicy.KEEP_LAST, durability=DurabilityPolicy.VOLATILE)
RECORD = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE,
                    history=HistoryPolicy.KEEP_LAST, durability=DurabilityPolicy.VOLATILE)
LATCHED = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE,
                     history=HistoryPolicy.KEEP_LAST,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
WEIGHTS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     history=HistoryPolicy.KEEP_LAST,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
