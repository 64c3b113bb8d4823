# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Start the race-car node set as processes, the way launch/racecar.launch.py does.

``NODES`` and ``PARAMS_FILE`` are the single description the tests use; a test checks the
launch file names the same executables and parameter file. Every process gets
``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` and the test's own ``ROS_DOMAIN_ID``.
"""

import os
import pathlib
import signal
import subprocess
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
PARAMS_FILE = ROOT / 'config' / 'racecar.yaml'
# (package, executable, node name); the sim bridge only runs with use_sim:=true.
NODES = [
    ('sim_bridge', 'sim_bridge_node', 'sim_bridge'),
    ('racecar_rl_env', 'racecar_driver_node', 'racecar_driver'),
    ('racecar_rl_env', 'racecar_env_node', 'racecar_env'),
    ('rl_agent', 'agent_node', 'rl_agent'),
    ('rl_replay', 'replay_node', 'rl_replay'),
]
SIM_ONLY = {'sim_bridge'}


def write_untrained_pi0(folder: pathlib.Path, d0_name: str, transitions: int = 200,
                        **sac) -> pathlib.Path:
    """Save a small untrained agent as ``checkpoint.pt`` and a D0 bag of random data."""
    import torch
    from rl_agent.sac import SAC, SACConfig
    from rl_replay.bag_io import write_bag
    from rl_replay.buffer import ReplayBuffer
    SAC(SACConfig(obs_dim=45, action_dim=2, critic_width=32, critic_blocks=1, **sac)).save(
        str(folder / 'checkpoint.pt'))
    g = torch.Generator().manual_seed(0)
    n = transitions
    d0 = ReplayBuffer(n, 45, 2)
    d0.add_batch(torch.randn(n, 45, generator=g), torch.rand(n, 2, generator=g) * 2 - 1,
                 torch.randn(n, generator=g), torch.randn(n, 45, generator=g),
                 torch.zeros(n), torch.zeros(n))
    write_bag(folder / d0_name, d0)
    return folder


def executable(package: str, name: str) -> str:
    """Path of an installed console script (install/<pkg>/lib/<pkg>/<name>)."""
    path = ROOT / 'install' / package / 'lib' / package / name
    if not path.is_file():
        raise FileNotFoundError(f'{path} missing: run scripts/bootstrap.sh (colcon build)')
    return str(path)


def params_with(overrides: dict, folder: pathlib.Path) -> pathlib.Path:
    """Write config/racecar.yaml with ``{node: {dotted.name: value}}`` overrides applied."""
    data = yaml.safe_load(PARAMS_FILE.read_text())
    for node, values in overrides.items():
        params = data.setdefault(node, {}).setdefault('ros__parameters', {})
        for dotted, value in values.items():
            section = params
            *parents, leaf = dotted.split('.')
            for key in parents:
                section = section.setdefault(key, {})
            section[leaf] = value
    path = folder / 'params.yaml'
    path.write_text(yaml.safe_dump(data))
    return path


def ros_env(domain_id: int) -> dict:
    """Environment of a node process: loopback-only DDS on its own domain."""
    env = dict(os.environ)
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    env['ROS_DOMAIN_ID'] = str(domain_id)
    env['PYTHONUNBUFFERED'] = '1'
    return env


class Graph:
    """A set of node processes with logs under ``folder``."""

    def __init__(self, folder: pathlib.Path, params: pathlib.Path, domain_id: int):
        """Nothing runs until ``start``."""
        self.folder, self.params, self.domain_id = folder, params, domain_id
        self.procs = {}

    def start(self, package: str, exe: str, name: str) -> subprocess.Popen:
        """Start one node (its log: ``<folder>/<name>.log``, appended)."""
        log = open(self.folder / f'{name}.log', 'a')
        proc = subprocess.Popen(
            [executable(package, exe), '--ros-args', '--params-file', str(self.params)],
            cwd=self.folder, env=ros_env(self.domain_id), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def start_all(self, names=None):
        """Start every node of ``NODES`` (or those named)."""
        for package, exe, name in NODES:
            if names is None or name in names:
                self.start(package, exe, name)

    def log(self, name: str) -> str:
        """Return the node's output so far."""
        path = self.folder / f'{name}.log'
        return path.read_text() if path.exists() else ''

    def kill(self, name: str, sig=signal.SIGKILL):
        """Send ``sig`` to a node's process group and wait for it."""
        proc = self.procs.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=20)

    def wait_exit(self, name: str, timeout: float) -> int:
        """Wait for a node to exit by itself; returns its exit code."""
        return self.procs[name].wait(timeout=timeout)

    def stop(self):
        """Interrupt every node (SIGINT, like Ctrl-C), then kill what is left."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        deadline = time.monotonic() + 10
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()


def wait_for(predicate, timeout: float, step: float = 0.1, what: str = 'condition'):
    """Poll ``predicate`` until true or raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f'timed out after {timeout} s waiting for {what}')
