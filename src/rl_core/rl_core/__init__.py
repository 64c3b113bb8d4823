# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Robot-agnostic core: config specs, the task and simulator interfaces, the registry."""
