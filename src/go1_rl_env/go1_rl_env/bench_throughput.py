# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Throughput of the Go1 task vs raw ``mujoco.batch`` stepping of the same model, in one run.

``python -m go1_rl_env.bench_throughput [--envs 256 --steps 200 --rounds 3 --nthread 2]``

*raw*: ``Batch.step(nstep=5)`` of the same model, nsim and threads, with random PD targets
written to ``ctrl`` each control step (the physics floor). *task*: the full
``Go1JoystickVectorEnv.step`` (measurement, observation noise, reward terms, commands,
termination, autoreset with domain randomisation, torch conversion). Rounds alternate
between the two so machine load hits both alike; the ratio task/raw is printed per round
and as the median (target >= 0.70).
"""

import argparse
import statistics
import time

from go1_rl_env.vector_env import Go1JoystickVectorEnv
import mujoco
import numpy as np
import torch


def raw_rate(env: Go1JoystickVectorEnv, steps: int, rng: np.random.Generator) -> float:
    """Control steps per second of bare ``Batch.step`` on the env's own batch."""
    b, n = env.batch, env.num_envs
    q0 = env.task.q0.numpy()
    b.reset(keyframe=env.key_home)
    t0 = time.perf_counter()
    for _ in range(steps):
        env.ctrl[:] = q0 + 0.5 * rng.uniform(-1, 1, (n, 12))
        b.step(nstep=env.substeps, stage=mujoco.mjtStage.mjSTAGE_VEL)
    return steps * n / (time.perf_counter() - t0)


def task_rate(env: Go1JoystickVectorEnv, steps: int, gen: torch.Generator) -> float:
    """Control steps per second of the full vector env step."""
    env.reset(seed=1)
    n = env.num_envs
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(torch.rand(n, 12, generator=gen) * 2 - 1)
    return steps * n / (time.perf_counter() - t0)


def main(argv=None) -> int:
    """Run the benchmark and print raw and task rates and their ratio."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    p.add_argument('--envs', type=int, default=256)
    p.add_argument('--steps', type=int, default=200)
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--nthread', type=int, default=2)
    p.add_argument('--variant', default='sim')
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    env = Go1JoystickVectorEnv(num_envs=args.envs, variant=args.variant, seed=0,
                               nthread=args.nthread)
    rng, gen = np.random.default_rng(0), torch.Generator().manual_seed(0)
    raw_rate(env, 20, rng)  # warm up both paths
    task_rate(env, 20, gen)
    ratios = []
    for r in range(args.rounds):
        raw = raw_rate(env, args.steps, rng)
        task = task_rate(env, args.steps, gen)
        ratios.append(task / raw)
        print(f'round {r}: raw mujoco.batch {raw:9.0f} steps/s   task {task:9.0f} steps/s   '
              f'ratio {task / raw:.3f}', flush=True)
    print(f'Go1 task throughput / raw mujoco.batch ({args.envs} envs, {args.nthread} threads, '
          f'{env.substeps} substeps of {env.model.opt.timestep} s): median ratio '
          f'{statistics.median(ratios):.3f} (target >= 0.70)')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
