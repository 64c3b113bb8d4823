# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The Go2-family DDS backend (unitree_sdk2py) against the simulated robot, loopback only."""

import os
import threading
import time

from go1_rl_env import model
from go1_rl_env.lowlevel import LowLevelLoop
from go1_rl_env.sim import Go1Sim
import numpy as np
import pytest

pytest.importorskip('unitree_sdk2py')
go2_dds = pytest.importorskip('go1_rl_env.go2_dds')
# a DDS domain of our own, away from the ROS graph's (0..99 -> 100..199; ids above 232
# give out-of-range ports)
DOMAIN = 100 + int(os.environ.get('ROS_DOMAIN_ID', '0')) % 100


def wait_for(pred, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.005)
    return bool(pred())


def test_go2_backend_drives_the_simulated_robot_with_crc_and_damps_on_timeout():
    sim = Go1Sim('nominal')
    server = go2_dds.Go2DdsSimServer(sim, DOMAIN)
    backend = go2_dds.Go2Backend(DOMAIN)
    stop = threading.Event()

    def robot():
        nxt = time.monotonic()
        while not stop.is_set():
            server.step_once()
            nxt += sim.dt
            time.sleep(max(0.0, nxt - time.monotonic()))

    thread = threading.Thread(target=robot, daemon=True)
    thread.start()
    events = []
    # 0.1 s instead of the robot's 0.04 s: robot, driver and test share a loaded 2-core CPU
    loop = LowLevelLoop(backend, sdk_hz=500.0, timeout_s=0.1, on_event=events.append)
    loop.start()
    try:
        assert wait_for(lambda: loop.latest_state() is not None), 'no rt/lowstate arrived'
        loop.release()
        t_end = time.monotonic() + 1.0
        # 1 s of targets, and on until the body is up (the simulated robot runs slower
        # than real time when the CPU is busy)
        while time.monotonic() < t_end or (sim.data.qpos[2] < 0.22 and
                                           time.monotonic() < t_end + 4.0):
            loop.set_target(model.DEFAULT_POSE, 35.0, 0.5)
            time.sleep(0.02)
        assert server.commands_applied > 20 and server.rejected == {'crc': 0, 'head': 0}
        assert sim.data.qpos[2] > 0.22 and not sim.flipped()
        np.testing.assert_allclose(server.last_command['q'], model.DEFAULT_POSE, atol=1e-6)
        state, _ = loop.latest_state()
        np.testing.assert_allclose(state['q'], sim.data.qpos[7:19], atol=0.05)
        assert backend.rejected_crc == 0
        # targets stop: damping (kp 0) reaches the robot
        assert wait_for(lambda: loop.damping.startswith('command_timeout'), 1.0)
        assert wait_for(lambda: server.last_command['kp'].max() == 0.0, 1.0)
        # a command with a wrong CRC is dropped by the robot (the loop stopped first, so
        # that it does not overwrite the CRC concurrently)
        loop.stop()
        before = server.commands_applied
        backend.cmd.crc = 0
        backend.pub.Write(backend.cmd)
        assert wait_for(lambda: server.rejected['crc'] >= 1, 2.0)
        assert server.commands_applied >= before
    finally:
        loop.stop()
        stop.set()
        thread.join(2.0)
        backend.close()
        server.close()


def test_the_sdk_config_is_loopback_only():
    assert '<NetworkInterface name="lo"/>' in go2_dds.LOOPBACK_CONFIG
    assert '<AllowMulticast>false</AllowMulticast>' in go2_dds.LOOPBACK_CONFIG
