# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The generic environment node: episode protocol and safety for any registered robot."""
