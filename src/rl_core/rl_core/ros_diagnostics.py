# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Health on ``/diagnostics`` (diagnostic_msgs/DiagnosticArray) for every node.

A node creates one ``Health`` and reports its state whenever something changes
(``health.ok('recording')``, ``health.warn('...')``, ``health.error('training failed: ...')``,
plus key/values); it is published at 1 Hz and at once on every change of level, with the
status name ``<node fully qualified name>`` and ``hardware_id`` of the robot, as
``diagnostic_updater`` does in C++. ``/diagnostics`` is the one absolute name every ROS
diagnostics tool (rqt_robot_monitor, diagnostic_aggregator) listens to.
"""

import threading
from typing import Dict, Optional

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

OK, WARN, ERROR, STALE = (DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR,
                          DiagnosticStatus.STALE)


class Health:
    """One node's diagnostic status, published on ``/diagnostics``."""

    def __init__(self, node, hardware_id: str = '', period_s: float = 1.0):
        """Create the publisher and the periodic timer."""
        self.node = node
        self.hardware_id = hardware_id
        # Absolute on purpose, as diagnostic_updater does: the aggregator and rqt_robot_monitor
        # read the one global /diagnostics topic whatever namespace the node runs in.
        self.pub = node.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.lock = threading.Lock()
        self.level = OK
        self.message = 'starting'
        self.values: Dict[str, str] = {}
        node.create_timer(period_s, self.publish)

    def report(self, level, message: str, values: Optional[Dict[str, object]] = None) -> None:
        """Set level and message (and key/values); publish at once if the level changed."""
        with self.lock:
            changed = level != self.level or message != self.message
            self.level, self.message = level, message
            if values:
                self.values.update({k: str(v) for k, v in values.items()})
        if changed:
            self.publish()

    def ok(self, message: str, **values) -> None:
        """Report healthy."""
        self.report(OK, message, values)

    def warn(self, message: str, **values) -> None:
        """Report degraded but running."""
        self.report(WARN, message, values)

    def error(self, message: str, **values) -> None:
        """Report not able to do its job (the message says why)."""
        self.report(ERROR, message, values)

    def publish(self) -> None:
        """Publish the current status."""
        with self.lock:
            status = DiagnosticStatus(level=self.level, name=self.node.get_fully_qualified_name(),
                                      message=self.message, hardware_id=self.hardware_id)
            status.values = [KeyValue(key=k, value=v) for k, v in self.values.items()]
        msg = DiagnosticArray()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.status = [status]
        try:
            self.pub.publish(msg)
        except Exception:  # noqa: BLE001 - the context may be shutting down
            pass
