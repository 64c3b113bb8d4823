# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
One task definition at run time: the task comes from the policy's checkpoint.

It is never rebuilt from defaults.

Checkpoints (and bags) store ``run_info`` with ``task`` (the registered name) and
``task_config`` (every field). ``resolve_task`` rebuilds that task, applies only the
overrides the task declares overridable, and refuses a name that disagrees with the
checkpoint, naming both sides.
"""

import json
import os
from typing import Any, Dict, Optional, Tuple

from rl_core import config_spec, registry


class TaskMismatchError(ValueError):
    """Configuration and checkpoint disagree about the task."""


def read_checkpoint_run_info(path: str) -> Dict[str, Any]:
    """Return the ``extra`` run info of a checkpoint (no arbitrary unpickling)."""
    import torch
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        raise ValueError(f'checkpoint {path} is unreadable: {exc}') from exc
    return json.loads(state.get('extra', '{}') or '{}')


def parse_overrides(text: str, where: str = 'task.overrides') -> Dict[str, Any]:
    """Parse a JSON object of overrides; refuse anything else with a clear message."""
    if not text or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f'{where} is not valid JSON ({exc.msg} at column {exc.colno}): '
                         f'{text!r}') from exc
    if not isinstance(data, dict):
        raise ValueError(f'{where} must be a JSON object, got {type(data).__name__}')
    return data


def resolve_task(name: str = '', checkpoint: str = '', overrides: Optional[Dict] = None,
                 run_info: Optional[Dict] = None) -> Tuple[Any, registry.RobotPlugin]:
    """
    Build the task a policy was trained with.

    ``checkpoint`` (or ``run_info`` already read) gives the task name and config; ``name``
    may be given too and must then agree. Without either, the named task's defaults are
    used. ``overrides`` may only change the task's ``OVERRIDABLE`` fields.
    """
    info = run_info
    if info is None and checkpoint:
        info = read_checkpoint_run_info(checkpoint)
    stored_name = (info or {}).get('task', '')
    if info is not None and not stored_name:
        raise TaskMismatchError(f'checkpoint {checkpoint or "(run info)"} records no task; it '
                                'was written before tasks were stored with checkpoints: '
                                'pretrain it again')
    if name and stored_name and name != stored_name:
        raise TaskMismatchError(f'task name {name!r} (parameter) differs from the '
                                f"checkpoint's task {stored_name!r} ({checkpoint})")
    plugin = registry.load(name or stored_name)
    task_cls = plugin.load_task_class()
    values = dict((info or {}).get('task_config') or {})
    overrides = dict(overrides or {})
    refused = sorted(set(overrides) - set(task_cls.OVERRIDABLE))
    if refused:
        raise TaskMismatchError(
            f'{plugin.name}: {refused} may not be overridden at run time (the policy was '
            f'trained with them); overridable: {sorted(task_cls.OVERRIDABLE) or "none"}')
    if values:
        config = config_spec.from_dict(task_cls.CONFIG, json.loads(json.dumps(values)))
    else:
        config = task_cls.CONFIG()
    if overrides:
        config = config_spec.replace(config, **{
            k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})
    return task_cls(config), plugin


def check_observation_spec(task, obs_dim: int, pixel_shape=(), what: str = 'checkpoint'):
    """Refuse a policy or data set whose observation differs from the task's, naming both."""
    spec = task.observation_spec
    theirs = tuple(pixel_shape or ())
    if obs_dim != spec.state_dim or theirs != tuple(spec.pixel_shape):
        mine = spec.describe()
        other = f'state {obs_dim}' + (
            ' + pixels ' + 'x'.join(map(str, theirs)) if theirs else '')
        raise TaskMismatchError(f'{what} observation ({other}) differs from task '
                                f"{task.NAME}'s observation ({mine})")


def check_action_dim(task, action_dim: int, what: str = 'checkpoint'):
    """Refuse a policy or data set whose action size differs from the task's."""
    if action_dim != task.action_spec.dim:
        raise TaskMismatchError(f'{what} action size {action_dim} differs from task '
                                f"{task.NAME}'s action size {task.action_spec.dim}")
