# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Experiments by robot name: pretraining, evaluation, the sim-to-online main job, ablation."""
