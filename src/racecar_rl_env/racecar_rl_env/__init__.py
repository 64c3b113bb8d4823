# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Race-car parking: dynamics, the one task definition, and the vector env (no rclpy)."""
