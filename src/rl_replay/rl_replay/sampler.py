# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Data retention: batches mixing D_online and D0 in an exact, annealed proportion."""

import math
from typing import Optional, Tuple

from rl_replay.buffer import TransitionBatch
import torch


class LinearAlphaSchedule:
    """alpha(step): linear from ``start`` to ``end`` over ``steps`` gradient steps, then flat."""

    def __init__(self, start: float = 0.5, end: float = 1.0, steps: int = 10_000):
        """Validate and store the schedule (paper: 0.5 -> 1 over 10k steps for the car)."""
        for name, value in (('start', start), ('end', end)):
            if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise ValueError(f'alpha schedule {name}={value!r} is out of range: '
                                 'must be in [0, 1]')
        if not (isinstance(steps, int) and steps >= 0):
            raise ValueError(f'alpha schedule steps={steps!r} is out of range: must be an '
                             'integer >= 0')
        self.start, self.end, self.steps = float(start), float(end), steps

    def __call__(self, step: int) -> float:
        """Online fraction at gradient step ``step`` (0-based)."""
        if self.steps == 0 or step >= self.steps:
            return self.end
        return self.start + (self.end - self.start) * max(step, 0) / self.steps


class MixedSampler:
    """
    Each batch: exactly round(alpha*B) online rows first, then B - that from D0.

    Pixels: when D_online stores pixels, D0 must store pixels of the same shape and the
    batches carry them; when D_online stores none, pixels D0 may hold are left out (a
    state-only learner).
    """

    def __init__(self, online, offline, batch_size: int, schedule: LinearAlphaSchedule):
        """``offline`` may be None (no data retention)."""
        if batch_size < 1:
            raise ValueError(f'batch_size={batch_size} is out of range: must be >= 1')
        online_pixels = getattr(online, 'pixel_shape', None)
        offline_pixels = getattr(offline, 'pixel_shape', None) if offline is not None else None
        if online_pixels and offline is not None and offline_pixels != online_pixels:
            raise ValueError(f'D_online stores pixels of shape {online_pixels} but D0 stores '
                             f'{offline_pixels or "no pixels"}: they cannot form one batch')
        self.drop_offline_pixels = bool(offline_pixels) and not online_pixels
        self.online, self.offline = online, offline
        self.batch_size = batch_size
        self.schedule = schedule

    def split(self, step: int) -> Tuple[int, int]:
        """(n_online, n_offline) at gradient step ``step``; rounds half up."""
        b = self.batch_size
        if self.offline is None or len(self.offline) == 0:
            return b, 0
        if len(self.online) == 0:
            return 0, b
        n_online = int(math.floor(self.schedule(step) * b + 0.5))
        return n_online, b - n_online

    def sample(self, step: int, generator: Optional[torch.Generator] = None
               ) -> TransitionBatch:
        """Sample the batch of gradient step ``step``; online rows come first."""
        n_online, n_offline = self.split(step)
        parts = []
        if n_online:
            parts.append(self.online.sample(n_online, generator))
        if n_offline:
            part = self.offline.sample(n_offline, generator)
            if self.drop_offline_pixels:
                part = part._replace(pixels=None, next_pixels=None)
            if self.offline.device != self.online.device:
                part = TransitionBatch(*[None if t is None else t.to(self.online.device)
                                         for t in part])
            parts.append(part)
        if len(parts) == 1:
            return parts[0]
        return TransitionBatch(*[None if a is None else torch.cat([a, b])
                                 for a, b in zip(*parts)])
