# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Simulation behind the real robots' driver topics."""
