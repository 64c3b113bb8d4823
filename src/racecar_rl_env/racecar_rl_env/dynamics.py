# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Kinematic and Pacejka dynamic bicycle models, vectorised over N cars in torch.

State ``(N, 6)``: ``[px, py, theta, vx, vy, omega]`` (m, m, rad, m/s, m/s, rad/s); vx/vy are
body-frame velocities. Action ``(N, 2)``: ``[steer, throttle]`` in [-1, 1]; the steering
angle is ``steering_limit * steer + angle_offset`` (rad), the motor duty
``max_throttle * throttle``. Nominal values and randomisation ranges are the published ones
(paper-facts.md). Functions are pure: inputs are never modified.
"""

import dataclasses
import math
from typing import Dict, Optional, Tuple

import torch

GRAVITY = 9.81  # m/s^2
# The Pacejka slip angles divide by vx; below BLEND_LOW the kinematic model alone is used,
# above BLEND_HIGH the dynamic one, linear in between (the usual AMZ/ETH blending).
BLEND_LOW = 0.3   # m/s
BLEND_HIGH = 0.5  # m/s
MIN_SLIP_SPEED = 0.1  # m/s, keeps atan(../vx) finite where the blend weight is zero anyway

NOMINAL = {
    'm': 1.65, 'l_f': 0.13, 'l_r': 0.17, 'I': 0.06, 'B_f': 2.75, 'B_r': 5.0, 'C_f': 1.45,
    'C_r': 1.3, 'D_f': 0.4, 'D_r': 0.3, 'c_m1': 30.0, 'c_m2': 1.25, 'c_d': 0.0,
    'steering_limit': 0.6, 'max_throttle': 0.4, 'angle_offset': 0.0,
}


def default_randomization() -> Dict[str, Tuple[float, float]]:
    """Uniform ranges of the published domain randomisation (fresh dict each call)."""
    return {
        'm': (1.6, 1.7), 'l_f': (0.125, 0.135), 'l_r': (0.165, 0.175),
        'angle_offset': (-0.15, 0.15), 'B_f': (2.0, 4.0), 'B_r': (3.0, 10.0),
        'C_f': (1.1, 2.0), 'C_r': (0.4, 2.0), 'D_f': (0.25, 0.6), 'D_r': (0.15, 0.45),
        'c_m1': (10.0, 40.0), 'c_m2': (1.0, 1.5), 'I': (0.03, 0.18),
        'steering_limit': (0.4, 0.75), 'max_throttle': (0.4, 0.6),
    }


@dataclasses.dataclass
class CarParams:
    """Per-car physical parameters, each a tensor of shape (N,)."""

    m: torch.Tensor
    l_f: torch.Tensor
    l_r: torch.Tensor
    I: torch.Tensor  # noqa: E741 - the yaw inertia's conventional name
    B_f: torch.Tensor
    B_r: torch.Tensor
    C_f: torch.Tensor
    C_r: torch.Tensor
    D_f: torch.Tensor
    D_r: torch.Tensor
    c_m1: torch.Tensor
    c_m2: torch.Tensor
    c_d: torch.Tensor
    steering_limit: torch.Tensor
    max_throttle: torch.Tensor
    angle_offset: torch.Tensor

    def select(self, mask: torch.Tensor, other: 'CarParams') -> 'CarParams':
        """Return params taking ``other``'s values where ``mask`` (N,) is true."""
        return CarParams(**{f.name: torch.where(mask, getattr(other, f.name),
                                                getattr(self, f.name))
                            for f in dataclasses.fields(self)})

    def as_dict(self) -> Dict[str, torch.Tensor]:
        """Field name -> tensor."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def nominal_params(n: int, device='cpu', overrides: Optional[Dict[str, float]] = None
                   ) -> CarParams:
    """N copies of the nominal car; ``overrides`` shift named parameters (e.g. 'real' car)."""
    values = dict(NOMINAL)
    for key, value in (overrides or {}).items():
        if key not in values:
            raise ValueError(f'unknown car parameter {key!r}; known: {sorted(values)}')
        values[key] = float(value)
    return CarParams(**{k: torch.full((n,), v, dtype=torch.float32, device=device)
                        for k, v in values.items()})


def sample_params(n: int, generator: Optional[torch.Generator] = None, device='cpu',
                  ranges: Optional[Dict[str, Tuple[float, float]]] = None) -> CarParams:
    """N cars with parameters drawn uniformly from ``ranges`` (nominal where absent)."""
    ranges = default_randomization() if ranges is None else ranges
    params = nominal_params(n, device).as_dict()
    for key, (low, high) in ranges.items():
        if key not in params:
            raise ValueError(f'unknown car parameter {key!r} in randomization ranges')
        if not low <= high:
            raise ValueError(f'randomization range of {key} is empty: [{low}, {high}]')
        u = torch.rand(n, generator=generator, device=device)
        params[key] = low + (high - low) * u
    return CarParams(**params)


def _inputs(action: torch.Tensor, p: CarParams):
    delta = p.steering_limit * action[:, 0].clamp(-1, 1) + p.angle_offset
    duty = p.max_throttle * action[:, 1].clamp(-1, 1)
    return delta, duty


def _longitudinal_force(vx, duty, p: CarParams):
    return p.c_m1 * duty - p.c_m2 ** 2 * vx - p.c_d ** 2 * vx * vx.abs()


def kinematic_derivative(state: torch.Tensor, action: torch.Tensor, p: CarParams
                         ) -> torch.Tensor:
    """d(state)/dt of the kinematic bicycle with vy = l_r*omega, omega = vx*tan(d)/L."""
    theta, vx, vy, omega = state[:, 2], state[:, 3], state[:, 4], state[:, 5]
    delta, duty = _inputs(action, p)
    cos_t, sin_t = torch.cos(theta), torch.sin(theta)
    ax = _longitudinal_force(vx, duty, p) / p.m
    tan_over_l = torch.tan(delta) / (p.l_f + p.l_r)
    return torch.stack([vx * cos_t - vy * sin_t, vx * sin_t + vy * cos_t, omega,
                        ax, p.l_r * tan_over_l * ax, tan_over_l * ax], dim=1)


def pacejka_derivative(state: torch.Tensor, action: torch.Tensor, p: CarParams
                       ) -> torch.Tensor:
    """d(state)/dt of the Pacejka dynamic bicycle, blended to kinematic at low speed."""
    theta, vx, vy, omega = state[:, 2], state[:, 3], state[:, 4], state[:, 5]
    delta, duty = _inputs(action, p)
    sign = torch.where(vx < 0, -1.0, 1.0)
    vx_safe = sign * vx.abs().clamp(min=MIN_SLIP_SPEED)
    alpha_f = delta - torch.atan((omega * p.l_f + vy) / vx_safe)
    alpha_r = torch.atan((omega * p.l_r - vy) / vx_safe)
    f_fy = p.D_f * GRAVITY * torch.sin(p.C_f * torch.atan(p.B_f * alpha_f))
    f_ry = p.D_r * GRAVITY * torch.sin(p.C_r * torch.atan(p.B_r * alpha_r))
    f_rx = _longitudinal_force(vx, duty, p)
    cos_d, sin_d = torch.cos(delta), torch.sin(delta)
    cos_t, sin_t = torch.cos(theta), torch.sin(theta)
    dynamic = torch.stack([
        vx * cos_t - vy * sin_t,
        vx * sin_t + vy * cos_t,
        omega,
        (f_rx - f_fy * sin_d + p.m * vy * omega) / p.m,
        (f_ry + f_fy * cos_d - p.m * vx * omega) / p.m,
        (f_fy * p.l_f * cos_d - f_ry * p.l_r) / p.I,
    ], dim=1)
    weight = ((vx.abs() - BLEND_LOW) / (BLEND_HIGH - BLEND_LOW)).clamp(0, 1).unsqueeze(1)
    return weight * dynamic + (1 - weight) * kinematic_derivative(state, action, p)


def project_kinematic(state: torch.Tensor, action: torch.Tensor, p: CarParams
                      ) -> torch.Tensor:
    """Set vy and omega to the kinematic values implied by vx and the new steering."""
    delta, _ = _inputs(action, p)
    omega = state[:, 3] * torch.tan(delta) / (p.l_f + p.l_r)
    return torch.cat([state[:, :4], (p.l_r * omega).unsqueeze(1), omega.unsqueeze(1)], dim=1)


DERIVATIVES = {'kinematic': kinematic_derivative, 'pacejka': pacejka_derivative}


def step_dynamics(state: torch.Tensor, action: torch.Tensor, params: CarParams,
                  model: str = 'kinematic', dt: float = 1.0 / 30.0, substep: float = 0.01
                  ) -> torch.Tensor:
    """Integrate one control period ``dt`` (s) with RK4 in ceil(dt/substep) equal steps."""
    if model not in DERIVATIVES:
        raise ValueError(f'model={model!r} is not allowed: must be one of {list(DERIVATIVES)}')
    f = DERIVATIVES[model]
    if model == 'kinematic':
        state = project_kinematic(state, action, params)
    n = max(1, math.ceil(dt / substep - 1e-9))
    h = dt / n
    for _ in range(n):
        k1 = f(state, action, params)
        k2 = f(state + 0.5 * h * k1, action, params)
        k3 = f(state + 0.5 * h * k2, action, params)
        k4 = f(state + h * k3, action, params)
        state = state + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
    return state
