# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Unitree Go1 joystick velocity tracking (task, MuJoCo model and simulator)."""
