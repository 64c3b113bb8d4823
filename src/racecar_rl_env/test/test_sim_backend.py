# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated car brakes actively; its bridge plug-in brakes on its own timeout."""

import math
import types

import pytest
from racecar_rl_env.sim_backend import RacecarSimBackend
from racecar_rl_env.sim_bridge_plugin import DEFAULT_COMMAND_TIMEOUT_S, RacecarBridge
from racecar_rl_env.state_estimator import pose_problem

REST = 0.05  # m/s


def time_to_rest(variant: str, brake: bool, v0: float = 3.0, dt: float = 0.01,
                 limit_s: float = 20.0):
    """Seconds from the command (latency included) until slower than REST; min vx seen."""
    car = RacecarSimBackend(variant=variant)
    car.reset((0.0, 0.0, 0.0))
    car.state[0, 3] = v0
    if brake:
        car.brake()
    else:
        car.set_command(0.0, 0.0)
    t, min_vx = 0.0, v0
    while car.speed() >= REST and t < limit_s:
        car.advance(dt)
        t += dt
        min_vx = min(min_vx, car.velocity()[0])
    for _ in range(100):  # one more second: it must stay at rest, never reverse
        car.advance(dt)
        min_vx = min(min_vx, car.velocity()[0])
    return t, min_vx, car


@pytest.mark.parametrize('variant,bound_s', [('nominal', 0.5), ('real', 0.65)])
def test_brake_stops_the_car_from_3_m_s_quickly_and_never_reverses(variant, bound_s):
    braked, min_vx, car = time_to_rest(variant, brake=True)
    coasted, _, _ = time_to_rest(variant, brake=False)
    latency = car.command_delay_s
    print(f'{variant}: 3 m/s -> {REST} m/s braking {braked:.2f} s '
          f'({braked - latency:.2f} s after the {latency:.3f} s command latency), '
          f'coasting (zero throttle) {coasted:.2f} s')
    assert braked < bound_s
    assert coasted > 4 * braked  # zero throttle only coasts: far longer
    assert min_vx >= 0.0          # never driven backwards
    assert car.speed() == 0.0     # held at rest


def test_brake_works_backwards_and_takes_the_command_latency():
    car = RacecarSimBackend(variant='nominal')
    car.reset((0.0, 0.0, 0.0))
    car.state[0, 3] = -1.0
    car.brake()
    car.advance(car.command_delay_s * 0.5)
    assert not car.braking  # still the previous command
    car.advance(car.command_delay_s)
    assert car.braking
    for _ in range(100):
        car.advance(0.01)
    assert car.speed() == 0.0


def test_a_drive_command_after_a_brake_drives_again():
    car = RacecarSimBackend(variant='nominal')
    car.reset((0.0, 0.0, 0.0))
    car.brake()
    car.advance(0.1)
    car.set_command(0.0, 0.2)
    for _ in range(50):
        car.advance(0.01)
    assert not car.braking and car.velocity()[0] > 0.5


class FakeNode:
    """Just enough of a node for the plug-in's timeout logic (no DDS)."""

    def __init__(self, params=None):
        self.params = params or {}
        self.logs = []

    def declare_parameter(self, name, default, _descriptor=None):
        return types.SimpleNamespace(value=self.params.get(name, default))

    def get_logger(self):
        node = self

        class Logger:
            def info(self, msg, **_kw):
                node.logs.append(('info', msg))

            def warn(self, msg, **_kw):
                node.logs.append(('warn', msg))
        return Logger()


def command(steering=0.0, throttle=0.0, brake=False):
    return types.SimpleNamespace(steering_angle=steering, throttle=throttle, brake=brake)


def test_bridge_brakes_on_its_own_timeout_when_commands_stop():
    node = FakeNode({'racecar.variant': 'nominal'})
    bridge = RacecarBridge()
    bridge.configure(node, 'racecar', None)
    assert bridge.command_timeout_s == pytest.approx(DEFAULT_COMMAND_TIMEOUT_S)
    dt = 0.01
    for _ in range(100):  # drive at duty 0.2 for a second
        bridge.on_command(command(0.0, 0.2))
        bridge.step(dt)
    speed = bridge.backend.speed()
    assert speed > 1.0 and not bridge.backend.braking
    silent_since = bridge.backend.time
    t = 0.0
    while bridge.backend.speed() >= REST:
        bridge.step(dt)
        t += dt
        assert t < 1.0, 'the board did not brake'
    warnings = [m for level, m in node.logs if level == 'warn']
    assert len(warnings) == 1 and warnings[0].startswith('race car board: no drive command '
                                                         'for 0.0')
    assert warnings[0].endswith(': braking')
    print(f'board timeout: {speed:.2f} m/s -> rest {t:.2f} s after the last command '
          f'(timeout {bridge.command_timeout_s:.3f} s, latency '
          f'{bridge.backend.command_delay_s:.3f} s)')
    assert bridge.backend.time - silent_since < 0.6
    bridge.on_command(command(0.0, 0.2))  # commands resume: drives again
    assert node.logs[-1] == ('info', 'drive commands resumed')
    for _ in range(20):
        bridge.step(dt)
        bridge.on_command(command(0.0, 0.2))
    assert not bridge.backend.braking and bridge.backend.speed() > 0.1


def test_bridge_refuses_non_finite_commands_and_passes_brakes():
    node = FakeNode({'racecar.variant': 'nominal'})
    bridge = RacecarBridge()
    bridge.configure(node, 'racecar', None)
    bridge.on_command(command(0.0, 0.2))
    bridge.on_command(command(math.nan, 0.2))
    assert node.logs[-1][0] == 'warn' and 'non-finite' in node.logs[-1][1]
    bridge.on_command(command(math.nan, math.nan, brake=True))  # a brake ignores the values
    for _ in range(10):
        bridge.step(0.01)
    assert bridge.backend.braking


@pytest.mark.parametrize('stamp,position,orientation,previous,problem', [
    (10.0, (1, 2, 0), (0, 0, 0, 1), 9.99, ''),
    (10.0, (1, 2, 0), (0, 0, 0, 1), None, ''),
    (10.0, (math.nan, 2, 0), (0, 0, 0, 1), 9.0, 'non-finite position x=nan'),
    (10.0, (1, math.inf, 0), (0, 0, 0, 1), 9.0, 'non-finite position y=inf'),
    (10.0, (1, 2, 0), (0, 0, math.nan, 1), 9.0, 'non-finite orientation qz=nan'),
    (10.0, (1, 2, 0), (0, 0, 0, 0), 9.0, 'degenerate orientation: quaternion norm 0.000'),
    (0.0, (1, 2, 0), (0, 0, 0, 1), None, 'stamp is zero (unset)'),
    (math.nan, (1, 2, 0), (0, 0, 0, 1), None, 'non-finite stamp nan'),
    (10.0, (1, 2, 0), (0, 0, 0, 1), 10.0, 'stamp not increasing: 10.000000 <= previous '
                                          '10.000000 (+0.0 ms)'),
    (9.99, (1, 2, 0), (0, 0, 0, 1), 10.0, 'stamp not increasing: 9.990000 <= previous '
                                          '10.000000 (-10.0 ms)'),
])
def test_pose_problem_names_the_problem(stamp, position, orientation, previous, problem):
    assert pose_problem(stamp, position, orientation, previous) == problem
