# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Top-level tests: DDS stays on loopback and every run gets its own domain id."""

import os

os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
