# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Start the race-car node set as processes, the way its launch file does.

The node list is the car's registration (``racecar_rl_env.plugin.PLUGIN.nodes``): the same
description its launch file and ``sim2online run`` start from. ``PARAMS_FILE`` is the car's
parameter file. Every process gets ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` and the
test's own ``ROS_DOMAIN_ID``.
"""

import os
import pathlib
import signal
import subprocess
import time

from rl_core import registry
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
PLUGIN = registry.load('racecar_parking')
PARAMS_FILE = ROOT / 'src' / 'racecar_rl_env' / 'config' / 'racecar.yaml'
# (package, executable, node name); the sim bridge only runs with use_sim:=true.
NODES = [(n.package, n.executable, n.name) for n in PLUGIN.nodes]
SIM_ONLY = {n.name for n in PLUGIN.nodes if n.only == 'sim'}


def write_untrained_pi0(folder: pathlib.Path, d0_name: str, transitions: int = 200,
                        task_overrides=None, **sac) -> pathlib.Path:
    """Save a small untrained car agent as ``checkpoint.pt`` and a D0 bag of random data."""
    import torch
    from rl_agent.sac import SAC, SACConfig
    from rl_core.run_info import resolve_task
    from rl_replay.bag_io import write_bag
    from rl_replay.buffer import ReplayBuffer
    task, _ = resolve_task('racecar_parking', overrides=task_overrides)
    SAC(SACConfig(obs_dim=45, action_dim=2, critic_width=32, critic_blocks=1, **sac)).save(
        str(folder / 'checkpoint.pt'), extra=task.to_run_info())
    g = torch.Generator().manual_seed(0)
    n = transitions
    d0 = ReplayBuffer(n, 45, 2)
    d0.add_batch(torch.randn(n, 45, generator=g), torch.rand(n, 2, generator=g) * 2 - 1,
                 torch.randn(n, generator=g), torch.randn(n, 45, generator=g),
                 torch.zeros(n), torch.zeros(n))
    write_bag(folder / d0_name, d0, metadata=task.to_run_info())
    return folder


def executable(package: str, name: str) -> str:
    """Path of an installed console script (``<prefix>/lib/<pkg>/<name>``)."""
    from rl_experiments.sim_to_online import executable as installed
    return installed(package, name)


def params_with(overrides: dict, folder: pathlib.Path, source: pathlib.Path = None
                ) -> pathlib.Path:
    """Write the car's parameter file (or ``source``) with ``{node: {dotted: value}}`` applied."""
    from rl_experiments.sim_to_online import set_param
    data = yaml.safe_load(pathlib.Path(source or PARAMS_FILE).read_text())
    for node, values in overrides.items():
        for dotted, value in values.items():
            set_param(data, node, dotted, value)
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

    def __init__(self, folder: pathlib.Path, params: pathlib.Path, domain_id: int,
                 namespace: str = ''):
        """Nothing runs until ``start``; ``namespace`` puts every node under it."""
        self.folder, self.params, self.domain_id = folder, params, domain_id
        self.namespace = namespace
        self.procs = {}

    def start(self, package: str, exe: str, name: str) -> subprocess.Popen:
        """Start one node (its log: ``<folder>/<name>.log``, appended)."""
        log = open(self.folder / f'{name}.log', 'a')
        proc = subprocess.Popen(
            [executable(package, exe), '--ros-args', '-r', f'__node:={name}',
             *(['-r', f'__ns:=/{self.namespace}'] if self.namespace else []),
             '--params-file', str(self.params)],
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


def stop_process(proc, timeout: float = 10.0):
    """Interrupt one process group (SIGINT, like Ctrl-C); kill it after ``timeout`` s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for(predicate, timeout: float, step: float = 0.1, what: str = 'condition'):
    """Poll ``predicate`` until true or raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f'timed out after {timeout} s waiting for {what}')


def call_service(client, request, what: str, executor=None, attempts: int = 3,
                 attempt_timeout: float = 8.0):
    """
    Call a ROS service and return its response, asking again when an answer is lost.

    A server that has just discovered a client can drop its first response: rmw_fastrtps
    waits only briefly for the client's response reader to match (ros2/rmw_fastrtps#390),
    and on a loaded 2-core runner that wait can run out. The request is then sent again;
    callers whose request is not idempotent must tolerate it having run twice. ``executor``
    is spun here when no other thread spins the client's node.
    """
    assert client.wait_for_service(timeout_sec=60), f'{what}: the service never appeared'
    for _ in range(attempts):
        future = client.call_async(request)
        deadline = time.monotonic() + attempt_timeout
        while not future.done() and time.monotonic() < deadline:
            if executor is None:
                time.sleep(0.05)
            else:
                executor.spin_once(timeout_sec=0.05)
        if future.done():
            return future.result()
        client.remove_pending_request(future)
        print(f'{what}: no answer within {attempt_timeout} s, asking again', flush=True)
    raise TimeoutError(f'{what}: no answer in {attempts} attempts of {attempt_timeout} s')
