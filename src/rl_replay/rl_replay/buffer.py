# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Preallocated ring replay buffer on a chosen device.

Features are stored as float32 or float16 (the paper stores float16), pixels as uint8,
``terminated`` and ``truncated`` separately. Every batch is validated before anything is
written, so a NaN observation or an out-of-range action never reaches the buffer.
"""

from typing import Dict, NamedTuple, Optional
import warnings

import numpy as np
import torch


class NonFiniteError(ValueError):
    """A transition field holds NaN or infinity."""


class TransitionBatch(NamedTuple):
    """A batch of transitions; reward/terminated/truncated are (B,) float32."""

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    pixels: Optional[torch.Tensor] = None
    next_pixels: Optional[torch.Tensor] = None


ACTION_TOLERANCE = 1e-6


def _as_tensor(name, value, device, dtype=None):
    try:
        return torch.as_tensor(value, device=device, dtype=dtype)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f'{name}: cannot convert to a tensor ({exc})') from exc


def _as_pixels(name, value, device):
    """Return uint8 pixels; refuse floats (a silent cast would wreck [0, 1] images)."""
    if value is None:
        return None
    tensor = _as_tensor(name, value, device)
    if tensor.dtype == torch.uint8:
        return tensor
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise ValueError(f'{name} have dtype {tensor.dtype}; expected uint8 (0..255)')
    if tensor.numel() and (int(tensor.min()) < 0 or int(tensor.max()) > 255):
        raise ValueError(f'{name} hold values outside 0..255; expected uint8')
    return tensor.to(torch.uint8)


class ReplayBuffer:
    """Ring buffer of transitions with uniform sampling (with replacement)."""

    def __init__(self, capacity: int, obs_dim: int, action_dim: int, *, device='cpu',
                 feature_dtype: torch.dtype = torch.float32, pixel_shape=None):
        """Preallocate ``capacity`` transitions on ``device``."""
        if capacity < 1 or obs_dim < 1 or action_dim < 1:
            raise ValueError(f'capacity, obs_dim and action_dim must be >= 1; got '
                             f'{capacity}, {obs_dim}, {action_dim}')
        if feature_dtype not in (torch.float32, torch.float16):
            raise ValueError(f'feature_dtype={feature_dtype} is not allowed: must be '
                             'torch.float32 or torch.float16')
        self.capacity, self.obs_dim, self.action_dim = capacity, obs_dim, action_dim
        self.device = torch.device(device)
        self.feature_dtype = feature_dtype
        self.pixel_shape = tuple(pixel_shape) if pixel_shape else None
        self._warn_if_large()
        d, f = self.device, feature_dtype
        self.storage: Dict[str, torch.Tensor] = {
            'obs': torch.zeros(capacity, obs_dim, dtype=f, device=d),
            'next_obs': torch.zeros(capacity, obs_dim, dtype=f, device=d),
            'action': torch.zeros(capacity, action_dim, dtype=torch.float32, device=d),
            'reward': torch.zeros(capacity, dtype=torch.float32, device=d),
            'terminated': torch.zeros(capacity, dtype=torch.bool, device=d),
            'truncated': torch.zeros(capacity, dtype=torch.bool, device=d),
            'episode_id': torch.zeros(capacity, dtype=torch.int64, device=d),
            'step_id': torch.zeros(capacity, dtype=torch.int64, device=d),
        }
        if self.pixel_shape:
            for key in ('pixels', 'next_pixels'):
                self.storage[key] = torch.zeros(capacity, *self.pixel_shape, dtype=torch.uint8,
                                                device=d)
        self.pos = 0
        self.size = 0
        self.size_tensor = torch.zeros((), dtype=torch.int64, device=d)

    def _warn_if_large(self):
        per = (2 * self.obs_dim * (2 if self.feature_dtype == torch.float16 else 4)
               + 4 * self.action_dim + 22)
        if self.pixel_shape:
            per += 2 * int(np.prod(self.pixel_shape))
        total = per * self.capacity
        try:
            import psutil
        except ImportError:
            return
        available = psutil.virtual_memory().available
        if self.device.type == 'cpu' and total > available:
            warnings.warn(f'replay buffer needs {total / 1e9:.1f} GB but only '
                          f'{available / 1e9:.1f} GB are available', ResourceWarning)

    def __len__(self) -> int:
        """Return the number of valid transitions."""
        return self.size

    # ------------------------------------------------------------------ writing
    def _validate(self, fields: Dict[str, torch.Tensor]) -> int:
        n = fields['reward'].reshape(-1).shape[0]
        expected = {'obs': (n, self.obs_dim), 'next_obs': (n, self.obs_dim),
                    'action': (n, self.action_dim), 'reward': (n,), 'terminated': (n,),
                    'truncated': (n,), 'episode_id': (n,), 'step_id': (n,)}
        if self.pixel_shape:
            expected['pixels'] = expected['next_pixels'] = (n, *self.pixel_shape)
        for name, shape in expected.items():
            value = fields.get(name)
            if value is None:
                raise ValueError(f'{name} is missing (expected shape {shape})')
            if tuple(value.shape) != shape:
                raise ValueError(f'{name} has shape {tuple(value.shape)}, expected {shape}')
            if value.is_floating_point():
                bad = ~torch.isfinite(value.reshape(n, -1)).all(dim=1)
                if bool(bad.any()):
                    row = int(bad.nonzero()[0])
                    raise NonFiniteError(f'{name} contains NaN or inf (row {row} of {n}); '
                                         'the batch was not stored')
        excess = fields['action'].abs() > 1.0 + ACTION_TOLERANCE
        if bool(excess.any()):
            row = int(excess.any(dim=1).nonzero()[0])
            raise ValueError(f'action outside [-1, 1] (row {row}): actions are stored '
                             'normalised; convert hardware units at the env boundary')
        return n

    def add_batch(self, obs, action, reward, next_obs, terminated, truncated, pixels=None,
                  next_pixels=None, episode_id=None, step_id=None) -> None:
        """Validate then append N transitions (numpy or torch, leading dim N)."""
        d = self.device
        reward_t = _as_tensor('reward', reward, d, torch.float32).reshape(-1)
        n = reward_t.shape[0]
        fields = {
            'obs': _as_tensor('obs', obs, d, torch.float32).reshape(n, -1),
            'next_obs': _as_tensor('next_obs', next_obs, d, torch.float32).reshape(n, -1),
            'action': _as_tensor('action', action, d, torch.float32).reshape(n, -1),
            'reward': reward_t,
            'terminated': _as_tensor('terminated', terminated, d).reshape(-1).bool(),
            'truncated': _as_tensor('truncated', truncated, d).reshape(-1).bool(),
            'episode_id': (torch.zeros(n, dtype=torch.int64, device=d) if episode_id is None
                           else _as_tensor('episode_id', episode_id, d,
                                           torch.int64).reshape(-1)),
            'step_id': (torch.zeros(n, dtype=torch.int64, device=d) if step_id is None
                        else _as_tensor('step_id', step_id, d, torch.int64).reshape(-1)),
        }
        if self.pixel_shape:
            fields['pixels'] = _as_pixels('pixels', pixels, d)
            fields['next_pixels'] = _as_pixels('next_pixels', next_pixels, d)
        self._validate(fields)
        if n > self.capacity:  # only the newest ``capacity`` survive a wrap anyway
            fields = {k: v[-self.capacity:] for k, v in fields.items()}
            n = self.capacity
        idx = (self.pos + torch.arange(n, device=d)) % self.capacity
        for key, value in fields.items():
            self.storage[key][idx] = value.to(self.storage[key].dtype)
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)
        self.size_tensor.fill_(self.size)

    # ------------------------------------------------------------------ reading
    def sample_indices(self, n: int, generator: Optional[torch.Generator] = None
                       ) -> torch.Tensor:
        """Uniform indices (with replacement) into the valid part."""
        if self.size == 0:
            raise ValueError('cannot sample from an empty replay buffer')
        return torch.randint(0, self.size, (n,), device=self.device, generator=generator)

    def gather(self, idx: torch.Tensor) -> TransitionBatch:
        """Return the transitions at ``idx`` as float32 tensors."""
        s = self.storage
        return TransitionBatch(
            obs=s['obs'][idx].float(), action=s['action'][idx], reward=s['reward'][idx],
            next_obs=s['next_obs'][idx].float(), terminated=s['terminated'][idx].float(),
            truncated=s['truncated'][idx].float(),
            pixels=s['pixels'][idx] if self.pixel_shape else None,
            next_pixels=s['next_pixels'][idx] if self.pixel_shape else None)

    def sample(self, batch_size: int, generator: Optional[torch.Generator] = None
               ) -> TransitionBatch:
        """Sample a uniform batch of ``batch_size`` transitions."""
        return self.gather(self.sample_indices(batch_size, generator))

    def _chronological(self) -> torch.Tensor:
        start = self.pos if self.size == self.capacity else 0
        return (start + torch.arange(self.size, device=self.device)) % self.capacity

    def arrays(self) -> Dict[str, np.ndarray]:
        """Return the valid transitions, oldest first, as numpy in their stored dtypes."""
        idx = self._chronological()
        return {k: v[idx].cpu().numpy() for k, v in self.storage.items()}

    def load_arrays(self, arrays: Dict[str, np.ndarray]) -> None:
        """Replace the contents with ``arrays`` (as returned by ``arrays()``)."""
        self.pos = self.size = 0
        self.size_tensor.fill_(0)
        if len(arrays['reward']) == 0:
            return
        self.add_batch(arrays['obs'], arrays['action'], arrays['reward'], arrays['next_obs'],
                       arrays['terminated'], arrays['truncated'],
                       pixels=arrays.get('pixels'), next_pixels=arrays.get('next_pixels'),
                       episode_id=arrays.get('episode_id'), step_id=arrays.get('step_id'))

    def state_dict(self) -> Dict[str, torch.Tensor]:
        """Return the valid part (oldest first) as tensors, for ``torch.save``."""
        idx = self._chronological()
        return {k: v[idx].clone() for k, v in self.storage.items()}

    def load_state_dict(self, state: Dict[str, torch.Tensor]) -> None:
        """Restore from ``state_dict()`` output."""
        self.load_arrays(dict(state))
