# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Declare-once parameter specs for dataclass configs.

Each config field carries its description, unit and allowed range in dataclass metadata.
The same spec validates configs, builds command-line flags for offline scripts and builds
ROS ``ParameterDescriptor``s in node modules, so a range is written in exactly one place.
"""

import argparse
import dataclasses
import math
from typing import Any, Optional, Sequence


def spec(default: Any, help: str, *,  # noqa: A002 - argparse's name for it
         low: Optional[float] = None,
         high: Optional[float] = None, choices: Optional[Sequence[Any]] = None,
         read_only: bool = False) -> Any:
    """Return a dataclass field whose metadata documents and bounds the value."""
    meta = {'help': help, 'low': low, 'high': high, 'choices': tuple(choices) if choices else None,
            'read_only': read_only}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def allowed_text(f: dataclasses.Field) -> str:
    """Describe the allowed values of a field for error messages and docs."""
    meta = f.metadata
    if meta.get('choices'):
        return 'one of ' + ', '.join(repr(c) for c in meta['choices'])
    low, high = meta.get('low'), meta.get('high')
    if low is not None and high is not None:
        return f'[{low}, {high}]'
    if low is not None:
        return f'>= {low}'
    if high is not None:
        return f'<= {high}'
    return 'any value'


def check_value(f: dataclasses.Field, value: Any, owner: str = '') -> None:
    """Raise ValueError naming the field and its allowed range if value is not allowed."""
    name = f'{owner}.{f.name}' if owner else f.name
    meta = f.metadata
    if not meta:
        return
    values = value if isinstance(value, (list, tuple)) else [value]
    for v in values:
        if meta.get('choices') and v not in meta['choices']:
            raise ValueError(f'{name}={value!r} is not allowed: must be {allowed_text(f)}')
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f'{name}={value!r} is not finite: must be {allowed_text(f)}')
        low, high = meta.get('low'), meta.get('high')
        if (low is not None and v < low) or (high is not None and v > high):
            raise ValueError(f'{name}={value!r} is out of range: must be {allowed_text(f)}')


def validate(config: Any) -> Any:
    """Check every field of a dataclass config; return it unchanged when valid."""
    owner = type(config).__name__
    for f in dataclasses.fields(config):
        check_value(f, getattr(config, f.name), owner)
    return config


def replace(config: Any, **changes: Any) -> Any:
    """Return a validated copy of a config with some fields changed."""
    known = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f'{type(config).__name__} has no field(s) {unknown}')
    return validate(dataclasses.replace(config, **changes))


def from_dict(cls: type, values: dict) -> Any:
    """Build a validated config from a plain dict (e.g. YAML), refusing unknown keys."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f'{cls.__name__} has no field(s) {unknown}; known: {sorted(known)}')
    cast = {}
    for key, value in values.items():
        default = known[key].default
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        cast[key] = value
    return validate(cls(**cast))


def to_dict(config: Any) -> dict:
    """Return the config as a JSON/YAML-safe dict (tuples become lists)."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def add_arguments(parser: argparse.ArgumentParser, cls: type, prefix: str = '') -> None:
    """Add one ``--flag`` per config field, with the spec's help text and range."""
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        flag = '--' + (prefix + f.name).replace('_', '-')
        text = f"{f.metadata.get('help', '')} Allowed: {allowed_text(f)}."
        if isinstance(default, bool):
            parser.add_argument(flag, dest=prefix + f.name, default=None,
                                type=lambda s: s.lower() in ('1', 'true', 'yes'), help=text)
        elif isinstance(default, (tuple, list)):
            kind = type(default[0]) if default else int
            parser.add_argument(flag, dest=prefix + f.name, default=None, type=kind, nargs='+',
                                help=text)
        else:
            kind = type(default) if default is not None else str
            parser.add_argument(flag, dest=prefix + f.name, default=None, type=kind, help=text)


def overrides_from_args(args: argparse.Namespace, cls: type, prefix: str = '') -> dict:
    """Collect the flags that were given on the command line for one config class."""
    out = {}
    for f in dataclasses.fields(cls):
        value = getattr(args, prefix + f.name, None)
        if value is not None:
            out[f.name] = tuple(value) if isinstance(value, list) else value
    return out
