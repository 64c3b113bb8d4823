# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Bicycle models against hand-computed values."""

import math

import pytest
from racecar_rl_env.dynamics import (default_randomization, kinematic_derivative, NOMINAL,
                                     nominal_params, pacejka_derivative, sample_params,
                                     step_dynamics)
import torch


def one(state, action):
    return (torch.tensor([state], dtype=torch.float32),
            torch.tensor([action], dtype=torch.float32))


def test_pacejka_derivative_matches_hand_computation():
    p = nominal_params(1)
    state, action = one([0.3, -0.2, 0.4, 1.5, 0.1, 0.5], [0.5, 0.8])
    got = pacejka_derivative(state, action, p)[0]
    n = NOMINAL
    th, vx, vy, w = 0.4, 1.5, 0.1, 0.5
    d = n['steering_limit'] * 0.5
    duty = n['max_throttle'] * 0.8
    a_f = d - math.atan((w * n['l_f'] + vy) / vx)
    a_r = math.atan((w * n['l_r'] - vy) / vx)
    f_fy = n['D_f'] * 9.81 * math.sin(n['C_f'] * math.atan(n['B_f'] * a_f))
    f_ry = n['D_r'] * 9.81 * math.sin(n['C_r'] * math.atan(n['B_r'] * a_r))
    f_rx = n['c_m1'] * duty - n['c_m2'] ** 2 * vx - n['c_d'] ** 2 * vx * abs(vx)
    m, inertia = n['m'], n['I']
    expected = [vx * math.cos(th) - vy * math.sin(th), vx * math.sin(th) + vy * math.cos(th),
                w, (f_rx - f_fy * math.sin(d) + m * vy * w) / m,
                (f_ry + f_fy * math.cos(d) - m * vx * w) / m,
                (f_fy * n['l_f'] * math.cos(d) - f_ry * n['l_r']) / inertia]
    assert got.tolist() == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_kinematic_straight_line_speed_matches_closed_form():
    # Zero steering, constant duty: v' = (c_m1 d - c_m2^2 v)/m  =>  v(t) = v_inf (1 - e^-kt).
    p = nominal_params(1)
    state, action = one([0, 0, 0, 0, 0, 0], [0.0, 0.5])
    n = NOMINAL
    k = n['c_m2'] ** 2 / n['m']
    v_inf = n['c_m1'] * n['max_throttle'] * 0.5 / n['c_m2'] ** 2
    for _ in range(30):
        state = step_dynamics(state, action, p, 'kinematic')
    t = 1.0
    v = v_inf * (1 - math.exp(-k * t))
    x = v_inf * (t - (1 - math.exp(-k * t)) / k)
    assert state[0, 3].item() == pytest.approx(v, rel=1e-5)
    assert state[0, 0].item() == pytest.approx(x, rel=1e-5)
    assert abs(state[0, 1].item()) < 1e-6


def test_kinematic_constant_speed_turn_follows_the_circle():
    # No motor force and no drag: speed stays, the car drives a circle of radius L/tan(d).
    p = nominal_params(1, overrides={'c_m2': 0.0})
    state, action = one([0, 0, 0, 1.0, 0, 0], [1.0, 0.0])
    n = NOMINAL
    delta = n['steering_limit']
    omega = 1.0 * math.tan(delta) / (n['l_f'] + n['l_r'])
    for _ in range(30):
        state = step_dynamics(state, action, p, 'kinematic')
    th = omega * 1.0
    # Body-frame velocity (1, l_r*omega) rotated by th, integrated from th = 0.
    vy = n['l_r'] * omega
    x = (math.sin(th) + vy * (math.cos(th) - 1)) / omega
    y = ((1 - math.cos(th)) + vy * math.sin(th)) / omega
    assert state[0, 2].item() == pytest.approx(th, rel=1e-5)
    assert state[0, 0].item() == pytest.approx(x, abs=1e-5)
    assert state[0, 1].item() == pytest.approx(y, abs=1e-5)


def test_kinematic_derivative_relations():
    p = nominal_params(1)
    state, action = one([0, 0, 0.3, 2.0, 0.0, 0.0], [0.2, -0.4])
    der = kinematic_derivative(state, action, p)[0]
    tan_over_l = math.tan(0.6 * 0.2) / 0.3
    assert der[4].item() == pytest.approx(0.17 * tan_over_l * der[3].item(), rel=1e-5)
    assert der[5].item() == pytest.approx(tan_over_l * der[3].item(), rel=1e-5)


def test_pacejka_is_finite_at_standstill_and_blends_to_kinematic():
    p = nominal_params(3)
    state = torch.tensor([[0, 0, 0, 0.0, 0, 0], [0, 0, 0, 0.2, 0, 0], [0, 0, 0, -0.05, 0, 0]])
    action = torch.tensor([[1.0, 1.0], [-1.0, 0.5], [0.3, -1.0]])
    der = pacejka_derivative(state, action, p)
    assert torch.isfinite(der).all()
    assert torch.allclose(der, kinematic_derivative(state, action, p))


def test_randomization_within_published_ranges():
    g = torch.Generator().manual_seed(0)
    p = sample_params(5000, g).as_dict()
    for key, (low, high) in default_randomization().items():
        assert p[key].min() >= low and p[key].max() <= high, key
        assert p[key].max() - p[key].min() > 0.9 * (high - low), key
    assert torch.all(p['c_d'] == 0.0)


def test_unknown_parameter_and_model_refused():
    with pytest.raises(ValueError, match='unknown car parameter'):
        nominal_params(1, overrides={'mass': 2.0})
    with pytest.raises(ValueError, match='must be one of'):
        step_dynamics(torch.zeros(1, 6), torch.zeros(1, 2), nominal_params(1), 'magic')


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu():
    g = torch.Generator().manual_seed(1)
    p = sample_params(64, g)
    state = torch.randn(64, 6, generator=g)
    action = torch.rand(64, 2, generator=g) * 2 - 1
    cpu = step_dynamics(state, action, p, 'pacejka')
    pc = type(p)(**{k: v.cuda() for k, v in p.as_dict().items()})
    gpu = step_dynamics(state.cuda(), action.cuda(), pc, 'pacejka')
    assert torch.allclose(cpu, gpu.cpu(), atol=1e-4)
