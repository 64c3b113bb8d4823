# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Franka Emika Panda vision-based cube picking (task, MuJoCo scene, batched simulator)."""
