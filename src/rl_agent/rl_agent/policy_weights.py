# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Policy weights as ``rl_interfaces/PolicyWeights`` messages: plain float32 tensors, no pickle.

``to_message`` packs an agent's acting tensors (``SAC.policy_tensors``) with a version;
``from_message`` unpacks and checks a message against what the receiving actor expects
(task, version newer than its own, tensor count and sizes) and raises ``ValueError`` naming
the problem. Loading (``SAC.load_policy_tensors``) checks names and shapes once more.
"""

from typing import Dict

import numpy as np
from rl_interfaces.msg import PolicyWeights, Tensor
import torch


def to_message(tensors: Dict[str, torch.Tensor], version: int, task: str) -> PolicyWeights:
    """Pack named tensors (any float dtype, sent as float32) with their version."""
    msg = PolicyWeights()
    msg.version = int(version)
    msg.task = str(task)
    for name, value in tensors.items():
        t = Tensor()
        t.name = name
        t.shape = [int(d) for d in value.shape]
        t.data = value.detach().to('cpu', torch.float32).contiguous().numpy().ravel()
        msg.tensors.append(t)
    return msg


def from_message(msg: PolicyWeights, task: str, current_version: int) -> Dict[str, torch.Tensor]:
    """
    Unpack a message for an actor of ``task`` acting with ``current_version``.

    Raises ValueError for another task, a version that is not newer (stale), or a tensor
    whose data size differs from its shape.
    """
    if msg.task != task:
        raise ValueError(f'policy weights for task {msg.task!r}; this actor runs {task!r}')
    if msg.version <= current_version:
        raise ValueError(f'stale policy weights: version {msg.version} is not newer than '
                         f'version {current_version} in use')
    out = {}
    for t in msg.tensors:
        shape = tuple(int(d) for d in t.shape)
        data = np.asarray(t.data, dtype=np.float32)
        if data.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f'policy tensor {t.name} has {data.size} values for shape {shape}')
        out[t.name] = torch.from_numpy(data.reshape(shape).copy())
    return out
