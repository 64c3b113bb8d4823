# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Robots register by name through Python entry points; generic code finds them here.

A robot package declares, in its ``setup.py``::

    entry_points={'sim2online.tasks': ['racecar_parking = racecar_rl_env.plugin:PLUGIN']}

where ``PLUGIN`` is a ``RobotPlugin``: the task class, the vectorised simulator, the sim
bridge plug-in, the hardware adapter and the node graph, each as a ``'module:attr'`` path
that is imported only when used (so listing tasks stays cheap and a missing optional
dependency of one robot never breaks another). Generic packages (agent, replay, sim
bridge, experiments, this core) never import a robot package: they call ``load(name)``.
"""

import dataclasses
import importlib
from importlib import metadata
from typing import Any, Dict, List, Optional, Tuple

GROUP = 'sim2online.tasks'


class UnknownTaskError(ValueError):
    """No robot registered the requested task name."""


@dataclasses.dataclass(frozen=True)
class NodeSpec:
    """One node of a robot's ROS graph (what a launch file and the main job start)."""

    package: str
    executable: str
    name: str
    #: 'sim': only with use_sim:=true; 'hardware': only with use_sim:=false; '': always.
    only: str = ''


@dataclasses.dataclass(frozen=True)
class RobotPlugin:
    """Everything generic code needs to run one robot task, referenced by import path."""

    name: str
    robot: str
    description: str
    task: str
    simulator: str
    bridge: str = ''
    adapter: str = ''
    #: ROS package installing ``launch/`` and ``config/`` of this robot.
    package: str = ''
    #: Launch file name inside ``share/<package>/launch``.
    launch_file: str = ''
    #: Parameter file of the whole graph inside ``share/<package>/config``.
    params_file: str = ''
    #: Pretraining config (CPU-sized) inside ``share/<package>/config``.
    pretrain_config: str = ''
    #: The nodes of the graph, in start order.
    nodes: Tuple[NodeSpec, ...] = ()
    #: Name of the simulator variant that plays the "real" robot in sim-to-sim runs.
    real_variant: str = 'real'

    def load_task_class(self):
        """Import the task class."""
        return load_object(self.task)

    def make_task(self, config: Any = None):
        """Build the task with ``config`` or its defaults."""
        return self.load_task_class()(config)

    def make_simulator(self, task, num_envs: int, **kwargs):
        """Build the vectorised simulator for ``task`` (see ``rl_core.simulator``)."""
        return load_object(self.simulator)(task, num_envs, **kwargs)

    def share_path(self, *parts: str) -> str:
        """Path of an installed file of this robot's package (``share/<package>/...``)."""
        from ament_index_python.packages import get_package_share_directory
        import os
        return os.path.join(get_package_share_directory(self.package), *parts)

    def graph_nodes(self, use_sim: bool) -> List[NodeSpec]:
        """Nodes to start for the simulated (use_sim) or the physical robot."""
        skip = 'hardware' if use_sim else 'sim'
        return [n for n in self.nodes if n.only != skip]


def load_object(path: str) -> Any:
    """Import ``'module:attr'`` (attr may be dotted) and return the attribute."""
    module, _, attr = path.partition(':')
    if not module or not attr:
        raise ValueError(f"{path!r} is not an import path of the form 'module:attr'")
    obj = importlib.import_module(module)
    for part in attr.split('.'):
        obj = getattr(obj, part)
    return obj


def _entry_points() -> Dict[str, metadata.EntryPoint]:
    found: Dict[str, metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def names() -> List[str]:
    """Return the registered task names, sorted."""
    return sorted(_entry_points())


def load(name: str) -> RobotPlugin:
    """Return the plug-in registered as ``name`` or raise UnknownTaskError listing the rest."""
    eps = _entry_points()
    if name not in eps:
        known = ', '.join(sorted(eps)) or 'none (is the workspace built and sourced?)'
        raise UnknownTaskError(f'unknown task {name!r}: registered tasks are {known}')
    plugin = eps[name].load()
    if not isinstance(plugin, RobotPlugin):
        raise TypeError(f'entry point {name!r} in {GROUP!r} gives {type(plugin).__name__}, '
                        'not a rl_core.registry.RobotPlugin')
    if plugin.name != name:
        raise ValueError(f'entry point {name!r} names a plug-in called {plugin.name!r}')
    return plugin


def load_all() -> Dict[str, RobotPlugin]:
    """Return every registered plug-in by name."""
    return {name: load(name) for name in names()}


def find(name: Optional[str]) -> RobotPlugin:
    """Load by task name, or by robot name when exactly one task of that robot exists."""
    if name in _entry_points():
        return load(name)
    matches = [p for p in load_all().values() if p.robot == name]
    if len(matches) == 1:
        return matches[0]
    return load(name)
