# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Go1 plug-in of the sim bridge: a simulated robot at the SDK level, on loopback.

The robot answers exactly as the real one does, so the real driver node runs unchanged:
``<name>.backend: go1_udp`` serves the legacy UDP protocol on ``127.0.0.1:<name>.port``
(valid CRCs, bad packets dropped, see ``go1_rl_env.sdk_sim_server``); ``go2_dds`` serves
``rt/lowcmd`` / ``rt/lowstate`` over loopback-only Cyclone DDS on ``<name>.dds_domain``.
Physics runs in the server's own real-time thread (0.004 s steps), not in the bridge's
tick, because the SDK link runs at 250-500 Hz. ``sim/reset`` (std_srvs/Trigger) lays the
robot down at the start pose, as an operator would before a stand-up. The robot is the
named variant (default ``real``: the shifted Go1 of the sim-to-sim experiment).
"""

import threading
import time

from go1_rl_env.sim import Go1Sim
from rcl_interfaces.msg import IntegerRange, ParameterDescriptor
from std_srvs.srv import Trigger


class Go1Bridge:
    """configure / activate / step / publish / deactivate / cleanup, as bridge plug-ins do."""

    def configure(self, node, name: str, task):
        """Declare this plug-in's parameters and build the simulated robot."""
        def param(key, default, text, **kw):
            return node.declare_parameter(f'{name}.{key}', default, ParameterDescriptor(
                description=text, read_only=True, **kw)).value
        self.node = node
        variant = param('variant', 'real', "Go1 variant: 'real', 'sim' or 'nominal'.")
        self.backend = param('backend', 'go1_udp', "SDK level served: 'go1_udp' or "
                             "'go2_dds'.")
        self.port = param('port', 8007, 'UDP port of the simulated Go1 (127.0.0.1).',
                          integer_range=[IntegerRange(from_value=1, to_value=65535, step=1)])
        self.dds_domain = param('dds_domain', 0, 'DDS domain of the simulated Go2.',
                                integer_range=[IntegerRange(from_value=0, to_value=232,
                                                            step=1)])
        seed = param('seed', 0, 'Seed of the simulated robot.')
        self.sim = Go1Sim(variant, seed, task)
        self.sim.reset(lying=True)
        self.server = None
        self.thread = None
        self.stop_event = threading.Event()
        self.sim_lock = threading.Lock()   # the Go2 stepping thread vs sim/reset
        node.create_service(Trigger, 'sim/reset', self.on_reset)
        node.get_logger().info(f'Go1: variant {variant}, SDK level {self.backend}')

    def activate(self):
        """Start serving the SDK link (own real-time thread)."""
        if self.backend == 'go1_udp':
            from go1_rl_env.sdk_sim_server import Go1UdpSimServer
            self.server = Go1UdpSimServer(self.sim, self.port)
            self.server.start()
        elif self.backend == 'go2_dds':
            from go1_rl_env.go2_dds import Go2DdsSimServer
            self.server = Go2DdsSimServer(self.sim, self.dds_domain)
            self.thread = threading.Thread(target=self._run_dds, daemon=True)
            self.thread.start()
        else:
            raise ValueError(f"backend={self.backend!r}: must be 'go1_udp' or 'go2_dds'")

    def _run_dds(self):
        nxt = time.monotonic()
        while not self.stop_event.is_set():
            with self.sim_lock:
                self.server.step_once()
            nxt += self.sim.dt
            time.sleep(max(0.0, nxt - time.monotonic()))

    def on_reset(self, request, response):
        """Lay the robot down at the start pose, motors unpowered."""
        lock = self.server.lock if self.backend == 'go1_udp' else self.sim_lock
        with lock:
            self.sim.reset(lying=True)
        response.success = True
        response.message = 'Go1 lying at the start pose'
        return response

    def step(self, dt: float):
        """Nothing: physics runs with the SDK link in the server thread."""

    def publish(self, stamp):
        """Nothing: the robot talks through its SDK link only."""

    def deactivate(self):
        """Stop the server."""
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(2.0)
        if self.server is not None:
            if self.backend == 'go1_udp':
                self.server.stop()
            else:
                self.server.close()

    def cleanup(self):
        """Nothing left to release."""
