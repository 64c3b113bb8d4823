# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The legacy UDP protocol against the real SDK (robot_interface.so), on loopback only."""

import socket
import struct
import time

from go1_rl_env import legacy_udp, model
from go1_rl_env.lowlevel import LowLevelLoop
from go1_rl_env.sdk_sim_server import Go1UdpSimServer
from go1_rl_env.sim import Go1Sim
import numpy as np
import pytest

robot_interface = pytest.importorskip('unitree_legged_sdk.robot_interface')


def wait_for(pred, timeout=3.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.002)
    return pred()


def test_crc_matches_packets_the_sdk_sends_and_lowcmd_decodes_exactly():
    end = legacy_udp.RobotEnd('127.0.0.1', 0)
    udp = robot_interface.UDP(0xff, legacy_udp.free_udp_port(), '127.0.0.1', end.port)
    cmd = robot_interface.LowCmd()
    udp.InitCmdData(cmd)
    for i in range(12):
        m = cmd.motorCmd[i]
        m.mode, m.q, m.dq, m.tau, m.Kp, m.Kd = 0x0A, 0.1 * i - 0.5, 0.25, -1.5 + i, 35.0, 0.5
    udp.SetSend(cmd)
    udp.Send()
    got = wait_for(end.receive)
    assert got is not None, end.last_error
    np.testing.assert_allclose(got['q'], 0.1 * np.arange(12) - 0.5, atol=1e-6)
    np.testing.assert_allclose(got['dq'], 0.25)
    np.testing.assert_allclose(got['tau'], -1.5 + np.arange(12), atol=1 / 256)
    np.testing.assert_allclose(got['kp'], 35.0, atol=1 / 32)
    np.testing.assert_allclose(got['kd'], 0.5, atol=1 / 16)
    assert (got['mode'] == 0x0A).all()
    # our own packer produces byte-identical motor entries
    ours = legacy_udp.pack_low_cmd(got['q'], got['dq'], got['kp'], got['kd'], got['tau'])
    assert legacy_udp.unpack_low_cmd(ours)['q'].tolist() == got['q'].tolist()
    end.close()


def test_the_sdk_accepts_our_lowstate_and_drops_bad_crc_and_wrong_length():
    robot = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    robot.bind(('127.0.0.1', 0))
    local = legacy_udp.free_udp_port()
    udp = robot_interface.UDP(0xff, local, '127.0.0.1', robot.getsockname()[1])
    state = robot_interface.LowState()
    q = np.linspace(-1, 1, 12)
    packet = legacy_udp.pack_low_state(q, q * 2, q * 3, (1.0, 0.0, 0.0, 0.0), (0.1, 0.2, 0.3),
                                       (0.0, 0.0, 9.81), (10, 20, 30, 40), tick=4242)

    def deliver(data):
        robot.sendto(data, ('127.0.0.1', local))
        time.sleep(0.01)
        udp.Recv()
        udp.GetRecv(state)

    deliver(packet)
    assert state.tick == 4242
    np.testing.assert_allclose([state.motorState[i].q for i in range(12)], q, atol=1e-6)
    np.testing.assert_allclose([state.motorState[i].dq for i in range(12)], 2 * q, atol=1e-6)
    np.testing.assert_allclose([state.motorState[i].tauEst for i in range(12)], 3 * q,
                               atol=1 / 256)
    np.testing.assert_allclose(state.imu.gyroscope, [0.1, 0.2, 0.3], atol=1e-6)
    assert list(state.footForce) == [10, 20, 30, 40]
    assert legacy_udp.unpack_low_state(packet)['tick'] == 4242
    bad = bytearray(legacy_udp.pack_low_state(q, q, q, (1, 0, 0, 0), (0, 0, 0), (0, 0, 0),
                                              (0, 0, 0, 0), tick=5000))
    bad[-1] ^= 0xFF
    deliver(bytes(bad))
    assert state.tick == 4242          # bad CRC: dropped by the SDK
    with pytest.raises(legacy_udp.PacketError, match='bad CRC'):
        legacy_udp.unpack_low_state(bytes(bad))
    with pytest.raises(legacy_udp.PacketError, match='wrong length 806'):
        legacy_udp.unpack_low_state(packet[:-1])
    robot.close()


def test_the_simulated_robot_drops_bad_packets_and_counts_them():
    sim = Go1Sim('nominal')
    server = Go1UdpSimServer(sim, realtime=False)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    good = legacy_udp.pack_low_cmd(*(np.zeros(12),) * 5)
    corrupt = bytearray(good)
    corrupt[40] ^= 0x01
    for data in (good[:-3], bytes(corrupt), b'\x00' * legacy_udp.LOW_CMD_LENGTH):
        tx.sendto(data, ('127.0.0.1', server.port))
    time.sleep(0.05)
    server.step_once()
    assert server.rejected == {'length': 1, 'crc': 1, 'header': 1}
    assert 'bad header' in server.end.last_error
    assert server.commands_applied == 0
    tx.close()
    server.stop()


def test_driver_loop_over_the_real_sdk_stands_the_simulated_go1_and_damps_on_timeout():
    sim = Go1Sim('nominal')
    server = Go1UdpSimServer(sim)
    server.start()
    backend = legacy_udp.SdkBackend('127.0.0.1', server.port, legacy_udp.free_udp_port())
    events = []
    # 0.1 s instead of the robot's 0.04 s: robot, driver and test share a loaded 2-core CPU
    loop = LowLevelLoop(backend, sdk_hz=500.0, timeout_s=0.1, on_event=events.append)
    loop.start()
    try:
        assert wait_for(lambda: loop.latest_state() is not None)
        assert loop.damping == 'no_target_yet'
        loop.release()
        t_end = time.monotonic() + 1.0
        # 1 s of targets, and on until the body is up (the simulated robot runs slower
        # than real time when the CPU is busy)
        while time.monotonic() < t_end or (sim.data.qpos[2] < 0.22 and
                                           time.monotonic() < t_end + 4.0):
            loop.set_target(model.DEFAULT_POSE, 35.0, 0.5)
            time.sleep(0.02)
        assert loop.damping == ''
        assert sim.data.qpos[2] > 0.22 and not sim.flipped()
        np.testing.assert_allclose(server.last_command['kp'], 35.0, atol=1 / 32)
        state, age = loop.latest_state()
        np.testing.assert_allclose(state['q'], sim.data.qpos[7:19], atol=0.05)
        # the targets stop (env node died): damping within two control periods + jitter
        stopped = time.monotonic()
        assert wait_for(lambda: loop.damping.startswith('command_timeout'), 1.0)
        assert time.monotonic() - stopped < 0.5
        assert wait_for(lambda: float(server.last_command['kp'].max()) == 0.0 and
                        float(server.last_command['kd'].min()) == pytest.approx(2.0), 1.0)
        assert events and events[-1].startswith('command_timeout')
        # the robot stops answering: reported
        server.stop()
        loop.release()
        assert wait_for(lambda: loop.damping.startswith('robot_silent'), 2.0)
    finally:
        loop.stop()
        server.stop()


class NanBackend:
    def __init__(self):
        self.sent = []

    def receive(self):
        q = np.zeros(12)
        q[4] = np.nan
        return {'q': q, 'dq': np.zeros(12)}

    def send(self, q, dq, kp, kd, tau):
        self.sent.append((kp.copy(), kd.copy()))


def test_nan_joint_readings_put_the_motors_in_damping():
    backend = NanBackend()
    events = []
    loop = LowLevelLoop(backend, on_event=events.append)
    loop.release()
    loop.set_target(model.DEFAULT_POSE, 35.0, 0.5)
    loop.tick()
    assert loop.damping.startswith('non_finite_state')
    kp, kd = backend.sent[-1]
    assert kp.max() == 0.0 and kd.min() == 2.0
    assert events == [loop.damping]
    loop.release()
    loop.set_target([np.nan] * 12, 35.0, 0.5)
    assert loop.damping == 'non_finite_target'


def test_lowstate_layout_constants():
    assert legacy_udp.LOW_STATE_LENGTH == 807 and legacy_udp.LOW_CMD_LENGTH == 614
    pkt = legacy_udp.pack_low_cmd(*(np.zeros(12),) * 5)
    assert pkt[:3] == b'\xfe\xef\xff' and len(pkt) == 614
    assert struct.unpack_from('<I', pkt, 610)[0] == legacy_udp.crc32_words(pkt)
