# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
ROS parameters from the declare-once config specs.

Every field of a spec dataclass becomes a parameter ``<prefix>.<field>`` with a
``ParameterDescriptor`` carrying its description, allowed range and read-only flag, so rqt
shows sliders and rclpy itself refuses out-of-range values; choices are checked in an
on-set callback with the same message the core gives.
"""

import dataclasses
import sys
from typing import Any, Callable, Dict, Type

from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                SetParametersResult)
from rl_core import config_spec

_INT_MAX = 2 ** 62


def descriptor(f: dataclasses.Field) -> ParameterDescriptor:
    """Build the descriptor of one spec field."""
    meta = f.metadata
    text = f"{meta.get('help', '')} Allowed: {config_spec.allowed_text(f)}."
    desc = ParameterDescriptor(description=text, read_only=bool(meta.get('read_only')))
    low, high = meta.get('low'), meta.get('high')
    default = f.default if f.default is not dataclasses.MISSING else None
    if (low is not None or high is not None) and not isinstance(default, (bool, tuple, list)):
        if isinstance(default, float):
            desc.floating_point_range = [FloatingPointRange(
                from_value=float(low if low is not None else -sys.float_info.max),
                to_value=float(high if high is not None else sys.float_info.max), step=0.0)]
        elif isinstance(default, int):
            desc.integer_range = [IntegerRange(
                from_value=int(low if low is not None else -_INT_MAX),
                to_value=int(min(high, _INT_MAX) if high is not None else _INT_MAX), step=0)]
    return desc


def _ros_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def declare_config(node, cls: Type, prefix: str, defaults: Any = None) -> Any:
    """Declare every field of ``cls`` as ``prefix.field``; return the config they give."""
    defaults = defaults if defaults is not None else cls()
    values = {}
    for f in dataclasses.fields(cls):
        name = f'{prefix}.{f.name}'
        param = node.declare_parameter(name, _ros_value(getattr(defaults, f.name)),
                                       descriptor(f))
        values[f.name] = param.value
    return config_spec.from_dict(cls, values)


def add_validation(node, specs: Dict[str, Type],
                   on_change: Callable[[str, Dict[str, Any]], None]) -> None:
    """Check choices/ranges of ``prefix.field`` sets; report accepted changes per prefix."""
    fields = {prefix: {f.name: f for f in dataclasses.fields(cls)}
              for prefix, cls in specs.items()}

    def callback(params):
        changes: Dict[str, Dict[str, Any]] = {}
        for p in params:
            prefix, _, name = p.name.partition('.')
            if prefix not in fields or name not in fields[prefix]:
                continue
            value = p.value
            if isinstance(value, list):
                value = tuple(value)
            try:
                config_spec.check_value(fields[prefix][name], value, prefix)
            except ValueError as exc:
                return SetParametersResult(successful=False, reason=str(exc))
            changes.setdefault(prefix, {})[name] = value
        for prefix, change in changes.items():
            on_change(prefix, change)
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(callback)


def start_errors():
    """
    Return the exceptions that mean "refuse to start, with this message".

    Bad configuration at start-up: an unknown task, a checkpoint of another task or shape, a
    malformed or out-of-range parameter (rclpy's own range checks raise ParameterException).
    Nodes log these as one fatal line and exit with status 2 instead of a traceback.
    """
    from rclpy.exceptions import ParameterException
    return (ValueError, FileNotFoundError, ParameterException)


def declare_task(node):
    """
    Declare ``task.name``, ``task.checkpoint``, ``task.overrides``; return (task, plugin).

    The task is the one the checkpoint was trained with (see ``rl_core.run_info``): every
    node of a graph that needs it (env, sim bridge, agent) reads the same parameters,
    usually from the ``/**`` section of the robot's parameter file.
    """
    from rl_core.run_info import parse_overrides, resolve_task

    def param(name, default, text):
        return node.declare_parameter(name, default, ParameterDescriptor(
            description=text, read_only=True)).value
    name = param('task.name', '', 'Registered task name (must agree with the checkpoint).')
    checkpoint = param('task.checkpoint', '', "The policy's checkpoint: the task "
                       'configuration it was trained with is read from it.')
    overrides = param('task.overrides', '', 'JSON object changing overridable task fields, '
                      'e.g. {"episode_steps": 100}.')
    return resolve_task(name, checkpoint, parse_overrides(overrides))
