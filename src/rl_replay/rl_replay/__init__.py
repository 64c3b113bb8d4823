# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Replay buffers, the two-buffer sampler and rosbag2 I/O (no rclpy)."""
