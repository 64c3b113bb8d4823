# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Go1's legacy low-level UDP protocol (unitree_legged_sdk 3.8), both ends.

Wire format (little endian, ``#pragma pack(1)``), measured here against the SDK's own
``robot_interface.so``: it sends 614-byte LowCmd packets and accepts 807-byte LowState
packets only (other lengths and bad CRCs are dropped), each ending in a CRC-32 (polynomial
0x04C11DB7, MSB first, initial 0xFFFFFFFF, no reflection) over the packet's leading 32-bit
words. Both are the ``comm.h`` structs with motor entries *compressed*:

- LowCmd motor (27 bytes): mode u8, q f32, dq f32, tau i16 (x256), Kp u16 (x32),
  Kd u16 (x16), reserve 12 bytes (the scales read off packets the SDK sent);
- LowState motor (32 bytes): mode u8, q f32, dq f32, ddq i16, tauEst i16 (x256), q_raw f32,
  dq_raw f32, ddq_raw i16, temperature i8, reserve 8 bytes.

``RobotEnd`` is what the robot's motor controller does (the SDK-level sim bridge uses it);
``SdkBackend`` drives a robot through the real SDK (imported only there). Addresses: the
robot listens on 192.168.123.10:8007 on hardware; every test here uses 127.0.0.1.
"""

import socket
import struct
from typing import Optional

import numpy as np

LOW_CMD_LENGTH = 614
LOW_STATE_LENGTH = 807
HEADER = b'\xfe\xef'
LOWLEVEL = 0xFF
POS_STOP_F = 2.146e9
VEL_STOP_F = 16000.0
TAU_SCALE = 256.0
KP_SCALE = 32.0
KD_SCALE = 16.0
_HEADER_BYTES = 22
_CMD_MOTOR = 27
_STATE_MOTOR = 32
_IMU = _HEADER_BYTES
_STATE_MOTORS = _IMU + 53
_FOOT_FORCE = _STATE_MOTORS + 20 * _STATE_MOTOR + 24
_TICK = _FOOT_FORCE + 16


def free_udp_port(host: str = '127.0.0.1') -> int:
    """Return a UDP port that is free on ``host`` now (for tests and simulated robots)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, 0))
        return sock.getsockname()[1]
    finally:
        sock.close()


class PacketError(ValueError):
    """A packet that the robot (or the SDK) would drop, with the reason."""


def _crc_table():
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def crc32_words(data: bytes) -> int:
    """
    Return Unitree's CRC-32 over the whole 32-bit words of ``data`` before the CRC.

    The SDK feeds each little-endian 32-bit word MSB first into a non-reflected CRC-32
    (polynomial 0x04C11DB7, initial 0xFFFFFFFF, no final XOR): CRC-32/MPEG-2 over the
    words' bytes in big-endian order, computed here a byte at a time from a table.
    """
    n = (len(data) - 4) // 4
    crc = 0xFFFFFFFF
    table = _TABLE
    for i in range(n):
        b0, b1, b2, b3 = data[4 * i:4 * i + 4]
        for byte in (b3, b2, b1, b0):
            crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc


def _seal(buf: bytearray) -> bytes:
    struct.pack_into('<I', buf, len(buf) - 4, crc32_words(bytes(buf)))
    return bytes(buf)


def check_packet(data: bytes, length: int, what: str) -> None:
    """Raise PacketError when ``data`` is not a valid packet of ``length`` bytes."""
    if len(data) != length:
        raise PacketError(f'{what}: wrong length {len(data)} bytes (expected {length})')
    if data[:2] != HEADER:
        raise PacketError(f'{what}: bad header {data[:2].hex()}')
    crc = struct.unpack_from('<I', data, length - 4)[0]
    want = crc32_words(data)
    if crc != want:
        raise PacketError(f'{what}: bad CRC {crc:#010x} (computed {want:#010x})')


def pack_low_cmd(q, dq, kp, kd, tau, mode: int = 0x0A) -> bytes:
    """Build a LowCmd packet for 12 motors (SDK order); the other 8 slots stay stopped."""
    buf = bytearray(LOW_CMD_LENGTH)
    buf[0:2] = HEADER
    buf[2] = LOWLEVEL
    for i in range(20):
        off = _HEADER_BYTES + i * _CMD_MOTOR
        if i < 12:
            struct.pack_into('<BffhHH', buf, off, mode, q[i], dq[i],
                             int(round(tau[i] * TAU_SCALE)), int(round(kp[i] * KP_SCALE)),
                             int(round(kd[i] * KD_SCALE)))
        else:
            struct.pack_into('<Bff', buf, off, 0, POS_STOP_F, VEL_STOP_F)
    return _seal(buf)


def unpack_low_cmd(data: bytes) -> dict:
    """Decode a LowCmd packet (checked) into 12-motor arrays q, dq, kp, kd, tau, mode."""
    check_packet(data, LOW_CMD_LENGTH, 'LowCmd')
    out = {k: np.zeros(12) for k in ('q', 'dq', 'kp', 'kd', 'tau')}
    out['mode'] = np.zeros(12, np.int64)
    for i in range(12):
        mode, q, dq, tau, kp, kd = struct.unpack_from('<BffhHH', data,
                                                      _HEADER_BYTES + i * _CMD_MOTOR)
        out['mode'][i] = mode
        out['q'][i], out['dq'][i] = q, dq
        out['tau'][i] = tau / TAU_SCALE
        out['kp'][i] = kp / KP_SCALE
        out['kd'][i] = kd / KD_SCALE
    return out


def pack_low_state(q, dq, tau_est, quat_wxyz, gyro, accel, foot_force, tick: int,
                   rpy=(0.0, 0.0, 0.0)) -> bytes:
    """Build an 807-byte LowState packet as the Go1's motor controller sends it."""
    buf = bytearray(LOW_STATE_LENGTH)
    buf[0:2] = HEADER
    buf[2] = LOWLEVEL
    struct.pack_into('<13f', buf, _IMU, *quat_wxyz, *gyro, *accel, *rpy)
    for i in range(12):
        off = _STATE_MOTORS + i * _STATE_MOTOR
        t = int(np.clip(round(tau_est[i] * TAU_SCALE), -32768, 32767))
        struct.pack_into('<Bffhhffhb', buf, off, 0x0A, q[i], dq[i], 0, t, q[i], dq[i], 0, 30)
    struct.pack_into('<4h', buf, _FOOT_FORCE,
                     *(int(np.clip(f, -32768, 32767)) for f in foot_force))
    struct.pack_into('<I', buf, _TICK, tick & 0xFFFFFFFF)
    return _seal(buf)


def unpack_low_state(data: bytes) -> dict:
    """Decode a LowState packet (checked): q, dq, tau_est, quaternion, gyro, accel, ..."""
    check_packet(data, LOW_STATE_LENGTH, 'LowState')
    imu = struct.unpack_from('<13f', data, _IMU)
    q, dq, tau = np.zeros(12), np.zeros(12), np.zeros(12)
    for i in range(12):
        _, q[i], dq[i], _, t = struct.unpack_from('<Bffhh', data,
                                                  _STATE_MOTORS + i * _STATE_MOTOR)
        tau[i] = t / TAU_SCALE
    return {'q': q, 'dq': dq, 'tau_est': tau, 'quaternion': np.array(imu[0:4]),
            'gyro': np.array(imu[4:7]), 'accel': np.array(imu[7:10]),
            'foot_force': np.array(struct.unpack_from('<4h', data, _FOOT_FORCE), float),
            'tick': struct.unpack_from('<I', data, _TICK)[0]}


class RobotEnd:
    """The robot side of the link: receive LowCmd, answer LowState (loopback only here)."""

    def __init__(self, host: str = '127.0.0.1', port: int = 8007):
        """Bind the robot's UDP port; ``host`` must be a loopback address in tests."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.setblocking(False)
        self.peer: Optional[tuple] = None
        self.rejected = {'length': 0, 'crc': 0, 'header': 0}
        self.last_error = ''

    @property
    def port(self) -> int:
        """Return the bound UDP port."""
        return self.sock.getsockname()[1]

    def receive(self) -> Optional[dict]:
        """Return the newest valid LowCmd waiting (None if none); counts rejects."""
        newest = None
        while True:
            try:
                data, addr = self.sock.recvfrom(4096)
            except (BlockingIOError, InterruptedError):
                return newest
            try:
                cmd = unpack_low_cmd(data)
            except PacketError as err:
                text = str(err)
                key = 'length' if 'length' in text else 'crc' if 'CRC' in text else 'header'
                self.rejected[key] += 1
                self.last_error = text
                continue
            self.peer = addr
            newest = cmd

    def send(self, packet: bytes) -> None:
        """Send a LowState to the last client that sent a valid LowCmd."""
        if self.peer is not None:
            self.sock.sendto(packet, self.peer)

    def close(self) -> None:
        """Close the socket."""
        self.sock.close()


class SdkBackend:
    """Drive a Go1 through the official legacy SDK (``unitree_legged_sdk.robot_interface``)."""

    def __init__(self, robot_ip: str = '192.168.123.10', robot_port: int = 8007,
                 local_port: int = 8080):
        """Open the SDK's UDP link in low-level mode (nothing is sent yet)."""
        from unitree_legged_sdk import robot_interface  # noqa: the SDK lives in the driver
        self.ri = robot_interface
        self.udp = robot_interface.UDP(LOWLEVEL, local_port, robot_ip, robot_port)
        self.cmd = robot_interface.LowCmd()
        self.state = robot_interface.LowState()
        self.udp.InitCmdData(self.cmd)
        self.last_tick = None

    def send(self, q, dq, kp, kd, tau) -> None:
        """Send one PD target for the 12 motors (SDK order)."""
        for i in range(12):
            m = self.cmd.motorCmd[i]
            m.mode = 0x0A
            m.q, m.dq, m.Kp, m.Kd, m.tau = (float(q[i]), float(dq[i]), float(kp[i]),
                                            float(kd[i]), float(tau[i]))
        self.udp.SetSend(self.cmd)
        self.udp.Send()

    def receive(self) -> Optional[dict]:
        """Return the latest LowState the SDK accepted, or None when none arrived since."""
        self.udp.Recv()
        self.udp.GetRecv(self.state)
        s = self.state
        if s.tick == self.last_tick or (self.last_tick is None and s.tick == 0):
            return None
        self.last_tick = s.tick
        ms = [s.motorState[i] for i in range(12)]
        reading = {'q': np.array([m.q for m in ms]), 'dq': np.array([m.dq for m in ms]),
                   'tau_est': np.array([m.tauEst for m in ms]),
                   'quaternion': np.array(s.imu.quaternion),
                   'gyro': np.array(s.imu.gyroscope), 'accel': np.array(s.imu.accelerometer),
                   'foot_force': np.array(s.footForce, float), 'tick': s.tick}
        return reading

    def close(self) -> None:
        """Drop the SDK objects (the SDK closes its socket)."""
        self.udp = None
