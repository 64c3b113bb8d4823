# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""SAC with the sim-to-online stabilizers; imports no rclpy."""
