# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Evaluate Go1 policies: tracking reward and velocity error vs a zero-action baseline.

``python -m go1_rl_env.evaluate [--checkpoint runs/pretrain_go1/checkpoint.pt]
[--episodes 100 --variant sim --steps 1000]``

Runs ``--episodes`` randomised robots for one episode each (commands resampled as in
training) with the deterministic policy and with zero actions (the default pose held by
the PD law), and prints per policy: the mean per-episode tracking return (the scaled
``tracking_lin_vel`` term, i.e. the reward the task pays for tracking), the mean xy velocity
error over all steps, the mean forward-velocity error over steps whose command asks for
|vx| >= 0.5 m/s, the share of robots that flipped, and the mean forward speed.
"""

import argparse
from typing import Callable, Dict, Optional

from go1_rl_env.task import field
from go1_rl_env.vector_env import Go1JoystickVectorEnv
import torch


def rollout(env: Go1JoystickVectorEnv, policy: Callable, steps: Optional[int] = None,
            seed: int = 12345) -> Dict[str, float]:
    """Run one episode per robot; return the tracking statistics."""
    n = env.num_envs
    obs, _ = env.reset(seed=seed)
    steps = steps or env.task.episode_steps
    alive = torch.ones(n, dtype=torch.bool)
    tracking = torch.zeros(n)
    err_sum, err_n = torch.zeros(n), torch.zeros(n)
    fwd_sum, fwd_n = torch.zeros(n), torch.zeros(n)
    vx_sum = torch.zeros(n)
    flipped = torch.zeros(n, dtype=torch.bool)
    for _ in range(steps):
        obs, reward, term, trunc, info = env.step(policy(obs))
        m = env.measurement
        prev_alive = alive.clone()
        done = info['episode_done']
        alive &= ~done
        flipped |= term & prev_alive
        # statistics of the step just taken (before any reset)
        live = prev_alive.float()
        tracking += info['reward_terms']['tracking_lin_vel'] * live
        err = info['metrics']['lin_vel_error']
        err_sum += err * live
        err_n += live
        cmd = field(m, 'command')
        vx = field(m, 'linvel')[:, 0]
        fast = (cmd[:, 0].abs() >= 0.5).float() * live
        fwd_sum += (cmd[:, 0] - vx).abs() * fast
        fwd_n += fast
        vx_sum += vx * live
        if not bool(alive.any()):
            break
    return {'tracking_return': float(tracking.mean()),
            'lin_vel_error': float(err_sum.sum() / err_n.sum().clamp(min=1)),
            'forward_vel_error': float(fwd_sum.sum() / fwd_n.sum().clamp(min=1)),
            'flipped': float(flipped.float().mean()),
            'mean_vx': float(vx_sum.sum() / err_n.sum().clamp(min=1))}


def main(argv=None) -> int:
    """Print the statistics of a checkpoint and of the zero-action baseline."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--checkpoint', default='')
    p.add_argument('--episodes', type=int, default=100)
    p.add_argument('--variant', default='sim')
    p.add_argument('--steps', type=int, default=0, help='0: the task episode length')
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    env = Go1JoystickVectorEnv(num_envs=args.episodes, variant=args.variant, seed=0)
    rows = {'zero action': rollout(env, lambda obs: torch.zeros(args.episodes, 12),
                                   args.steps or None)}
    if args.checkpoint:
        from rl_agent.sac import SAC
        agent = SAC.load(args.checkpoint)
        rows['policy'] = rollout(env, lambda obs: agent.act(obs, deterministic=True),
                                 args.steps or None)
    print(f'{args.episodes} randomised episodes, variant {args.variant}')
    print(f"{'policy':12s} {'tracking return':>15s} {'xy vel err':>10s} "
          f"{'fwd vel err':>11s} {'flipped':>8s} {'mean vx':>8s}")
    for name, r in rows.items():
        print(f"{name:12s} {r['tracking_return']:15.3f} {r['lin_vel_error']:10.3f} "
              f"{r['forward_vel_error']:11.3f} {r['flipped']:8.0%} {r['mean_vx']:8.3f}")
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
