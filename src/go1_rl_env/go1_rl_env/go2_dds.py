# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Go2 family's low-level interface (``unitree_sdk2py``: Cyclone DDS, CRC), both ends.

``rt/lowcmd`` (``unitree_go.msg.dds_.LowCmd_``) carries per motor ``mode`` (0x01 = servo),
``q, dq, kp, kd, tau``; unused motors get ``PosStopF``/``VelStopF``; ``head`` is FE EF,
``level_flag`` 0xFF and ``crc`` the SDK's CRC of the packed message. ``rt/lowstate``
answers with motor states, IMU and foot forces, also CRC-protected. Motors 0-11 are FR,
FL, RR, RL (hip, thigh, calf), the same order as the Go1's.

``unitree_sdk2py``'s ``ChannelFactoryInitialize`` builds its own Cyclone DDS configuration
and ignores ``CYCLONEDDS_URI``; without an interface it auto-selects one (eth0 here).
``init_channels`` therefore hands it a loopback-only configuration (``LOOPBACK_CONFIG``)
unless a real robot interface is named (on the robot: ``network_interface: eth0``).
"""

import threading
from typing import Optional

from go1_rl_env.sim import Go1Sim
import numpy as np

POS_STOP_F = 2.146e9
VEL_STOP_F = 16000.0
SERVO_MODE = 0x01
LOOPBACK_CONFIG = (
    '<?xml version="1.0" encoding="UTF-8" ?><CycloneDDS><Domain Id="any"><General>'
    '<Interfaces><NetworkInterface name="lo"/></Interfaces>'
    '<AllowMulticast>false</AllowMulticast></General><Discovery>'
    '<ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>50'
    '</MaxAutoParticipantIndex><Peers><Peer address="127.0.0.1"/></Peers></Discovery>'
    '</Domain></CycloneDDS>')


def init_channels(domain_id: int, network_interface: str = '') -> None:
    """Initialise unitree_sdk2py's DDS once: on loopback unless an interface is named."""
    from unitree_sdk2py.core import channel  # noqa: the SDK lives in the driver
    if network_interface:
        channel.ChannelFactoryInitialize(domain_id, network_interface)
        return
    channel.ChannelConfigAutoDetermine = LOOPBACK_CONFIG
    channel.ChannelFactoryInitialize(domain_id)


def _types():
    from unitree_sdk2py.idl.default import unitree_go_msg_dds__LowCmd_, \
        unitree_go_msg_dds__LowState_
    from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_, LowState_
    from unitree_sdk2py.utils.crc import CRC
    return LowCmd_, LowState_, unitree_go_msg_dds__LowCmd_, unitree_go_msg_dds__LowState_, \
        CRC()


class Go2Backend:
    """Send PD targets on rt/lowcmd, read rt/lowstate (CRC checked) via unitree_sdk2py."""

    def __init__(self, domain_id: int = 0, network_interface: str = ''):
        """Join the robot's DDS domain (loopback-only unless ``network_interface``)."""
        from unitree_sdk2py.core.channel import ChannelPublisher, ChannelSubscriber
        init_channels(domain_id, network_interface)
        LowCmd_, LowState_, self._new_cmd, _, self.crc = _types()
        self.pub = ChannelPublisher('rt/lowcmd', LowCmd_)
        self.pub.Init()
        self.sub = ChannelSubscriber('rt/lowstate', LowState_)
        self.sub.Init(self._on_state, 10)
        self.lock = threading.Lock()
        self.latest = None
        self.fresh = False
        self.rejected_crc = 0
        self.cmd = self._new_cmd()
        self.cmd.head[0], self.cmd.head[1] = 0xFE, 0xEF
        self.cmd.level_flag = 0xFF
        for i in range(20):
            m = self.cmd.motor_cmd[i]
            m.mode, m.q, m.dq, m.kp, m.kd, m.tau = (0x00, POS_STOP_F, VEL_STOP_F, 0.0, 0.0,
                                                    0.0)

    def _on_state(self, msg) -> None:
        if msg.crc != self.crc.Crc(msg):
            with self.lock:
                self.rejected_crc += 1
            return
        ms = msg.motor_state
        reading = {'q': np.array([ms[i].q for i in range(12)]),
                   'dq': np.array([ms[i].dq for i in range(12)]),
                   'tau_est': np.array([ms[i].tau_est for i in range(12)]),
                   'quaternion': np.array(msg.imu_state.quaternion),
                   'gyro': np.array(msg.imu_state.gyroscope),
                   'accel': np.array(msg.imu_state.accelerometer),
                   'foot_force': np.array(msg.foot_force, float), 'tick': msg.tick}
        with self.lock:
            self.latest, self.fresh = reading, True

    def send(self, q, dq, kp, kd, tau) -> None:
        """Publish one PD target for motors 0-11 (servo mode) with its CRC."""
        for i in range(12):
            m = self.cmd.motor_cmd[i]
            m.mode = SERVO_MODE
            m.q, m.dq, m.kp, m.kd, m.tau = (float(q[i]), float(dq[i]), float(kp[i]),
                                            float(kd[i]), float(tau[i]))
        self.cmd.crc = self.crc.Crc(self.cmd)
        self.pub.Write(self.cmd)

    def receive(self) -> Optional[dict]:
        """Return the newest valid state once (None when nothing new arrived)."""
        with self.lock:
            if not self.fresh:
                return None
            self.fresh = False
            return self.latest

    def close(self) -> None:
        """Close the channels."""
        self.sub.Close()
        self.pub.Close()


class Go2DdsSimServer:
    """A simulated robot on rt/lowcmd / rt/lowstate (DDS on loopback), stepped on demand."""

    def __init__(self, sim: Go1Sim, domain_id: int = 0):
        """Join the loopback DDS domain and serve ``sim``."""
        from unitree_sdk2py.core.channel import ChannelPublisher, ChannelSubscriber
        init_channels(domain_id)
        LowCmd_, LowState_, _, self._new_state, self.crc = _types()
        self.sim = sim
        self.lock = threading.Lock()
        self.pending = None
        self.rejected = {'crc': 0, 'head': 0}
        self.commands_applied = 0
        self.last_command = None
        self.pub = ChannelPublisher('rt/lowstate', LowState_)
        self.pub.Init()
        self.sub = ChannelSubscriber('rt/lowcmd', LowCmd_)
        self.sub.Init(self._on_cmd, 10)

    def _on_cmd(self, msg) -> None:
        if list(msg.head) != [0xFE, 0xEF]:
            self.rejected['head'] += 1
            return
        if msg.crc != self.crc.Crc(msg):
            self.rejected['crc'] += 1
            return
        mc = msg.motor_cmd
        cmd = {k: np.array([getattr(mc[i], k) for i in range(12)], float)
               for k in ('q', 'dq', 'kp', 'kd', 'tau')}
        with self.lock:
            self.pending = cmd

    def step_once(self) -> None:
        """Apply the newest command, advance one physics step, publish rt/lowstate."""
        with self.lock:
            cmd, self.pending = self.pending, None
        if cmd is not None:
            self.last_command = cmd
            self.commands_applied += 1
        r = self.sim.sdk_step(cmd)
        q, dq, tau = r['q'], r['dq'], r['tau_est']
        quat, gyro, accel = r['quaternion'], r['gyro'], r['accel']
        state = self._new_state()
        state.head[0], state.head[1] = 0xFE, 0xEF
        state.level_flag = 0xFF
        for i in range(12):
            ms = state.motor_state[i]
            ms.mode, ms.q, ms.dq, ms.tau_est = SERVO_MODE, float(q[i]), float(dq[i]), \
                float(tau[i])
        state.imu_state.quaternion = [float(v) for v in quat]
        state.imu_state.gyroscope = [float(v) for v in gyro]
        state.imu_state.accelerometer = [float(v) for v in accel]
        state.foot_force = [int(min(f, 32767)) for f in r['foot_force']]
        state.tick = int(self.sim.time * 1000) & 0xFFFFFFFF
        state.crc = self.crc.Crc(state)
        self.pub.Write(state)

    def close(self) -> None:
        """Close the channels."""
        self.sub.Close()
        self.pub.Close()
