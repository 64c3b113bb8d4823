# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
SAC gradient updates per second: ours vs Stable-Baselines3 ``SAC.train()``, same run.

Both learners get identical networks (actor and two critics), the same batch size and the
same data already in memory; SB3 samples from its own replay buffer, we sample from ours.
Rounds alternate between the two so that background load hits both equally; the printed
ratio is ours / SB3 from the medians.

    python bench/sac_update_bench.py                 # CPU, both configs
    python bench/sac_update_bench.py --device cuda --cuda-graph
"""

import argparse
import statistics
import sys
import time

import gymnasium as gym
import numpy as np
from rl_agent.sac import SAC, SACConfig
from rl_replay.buffer import ReplayBuffer
import torch

CONFIGS = {
    # The SB3/CleanRL reference: 2x256 MLP actor and critics, batch 256.
    'reference_2x256': {'obs_dim': 30, 'action_dim': 8, 'batch': 256, 'actor_hidden': (256, 256),
                        'critic': 'mlp', 'critic_hidden': (256, 256)},
    # The paper's race-car config: actor 64x64, BRO critics W=512 K=2, batch 256.
    'racecar_paper': {'obs_dim': 45, 'action_dim': 2, 'batch': 256, 'actor_hidden': (64, 64),
                      'critic': 'bro', 'width': 512, 'blocks': 2},
}


class _BoxEnv(gym.Env):
    def __init__(self, obs_dim, action_dim):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (action_dim,), np.float32)

    def reset(self, seed=None, options=None):
        return np.zeros(self.observation_space.shape, np.float32), {}

    def step(self, action):
        return np.zeros(self.observation_space.shape, np.float32), 0.0, False, False, {}


def make_data(n, obs_dim, action_dim, seed=0):
    rng = np.random.default_rng(seed)
    return {'obs': rng.standard_normal((n, obs_dim), np.float32),
            'action': rng.uniform(-1, 1, (n, action_dim)).astype(np.float32),
            'reward': rng.standard_normal(n).astype(np.float32),
            'next_obs': rng.standard_normal((n, obs_dim), np.float32),
            'terminated': rng.random(n) < 0.01}


def sb3_learner(spec, data, device):
    """SB3 SAC with the same network shapes; returns a callable doing n updates."""
    from stable_baselines3 import SAC as SB3SAC
    if spec['critic'] != 'mlp':
        return None
    env = _BoxEnv(spec['obs_dim'], spec['action_dim'])
    n = len(data['reward'])
    model = SB3SAC('MlpPolicy', env, batch_size=spec['batch'], buffer_size=n,
                   learning_starts=0, device=device, seed=0,
                   policy_kwargs={'net_arch': {'pi': list(spec['actor_hidden']),
                                               'qf': list(spec['critic_hidden'])}})
    rb = model.replay_buffer
    rb.observations[:n, 0] = data['obs']
    rb.next_observations[:n, 0] = data['next_obs']
    rb.actions[:n, 0] = data['action']
    rb.rewards[:n, 0] = data['reward']
    rb.dones[:n, 0] = data['terminated']
    rb.pos, rb.full = 0, True
    model._setup_learn(total_timesteps=1)

    def run(steps):
        model.train(gradient_steps=steps, batch_size=spec['batch'])
    return run


def our_learner(spec, data, device, cuda_graph, actor_period):
    """Our SAC with the same shapes; returns a callable doing n updates."""
    cfg = SACConfig(obs_dim=spec['obs_dim'], action_dim=spec['action_dim'],
                    actor_hidden=spec['actor_hidden'], critic_type=spec['critic'],
                    critic_hidden=spec.get('critic_hidden', (256, 256)),
                    critic_width=spec.get('width', 512), critic_blocks=spec.get('blocks', 2),
                    actor_update_period=actor_period, actor_lr=3e-4,
                    target_reduction='min' if spec['critic'] == 'mlp' else 'mean',
                    normalize_obs=False, cuda_graph=cuda_graph)
    agent = SAC(cfg, device)
    buf = ReplayBuffer(len(data['reward']), spec['obs_dim'], spec['action_dim'],
                       device=device)
    buf.add_batch(data['obs'], data['action'], data['reward'], data['next_obs'],
                  data['terminated'], np.zeros_like(data['terminated']))

    def run(steps):
        for _ in range(steps):
            agent.update(buf.sample(spec['batch']))
        if agent.device.type == 'cuda':
            torch.cuda.synchronize()
    return run


def timed(run, steps):
    start = time.perf_counter()
    run(steps)
    return steps / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--cuda-graph', action='store_true')
    parser.add_argument('--configs', nargs='+', default=list(CONFIGS))
    parser.add_argument('--steps', type=int, default=None, help='updates per timed round')
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--buffer', type=int, default=100_000)
    args = parser.parse_args(argv)
    steps = args.steps or (50 if args.device == 'cpu' else 500)
    print(f'torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}'
          f', cuda_graph={args.cuda_graph}, {steps} updates x {args.rounds} rounds')
    rows = []
    for name in args.configs:
        spec = CONFIGS[name]
        data = make_data(args.buffer, spec['obs_dim'], spec['action_dim'])
        learners = {'ours(M=1)': our_learner(spec, data, args.device, args.cuda_graph, 1),
                    'ours(M=20)': our_learner(spec, data, args.device, args.cuda_graph, 20)}
        sb3 = sb3_learner(spec, data, args.device)
        if sb3 is not None:
            learners['sb3'] = sb3
        for run in learners.values():
            run(max(3, steps // 10))  # warm-up (and CUDA-graph capture)
        rates = {k: [] for k in learners}
        for _ in range(args.rounds):
            for key, run in learners.items():
                rates[key].append(timed(run, steps))
        med = {k: statistics.median(v) for k, v in rates.items()}
        for key, value in med.items():
            ratio = f'{value / med["sb3"]:.2f}x SB3' if 'sb3' in med else 'SB3 has no BRO'
            rows.append((name, key, value, ratio))
            print(f'{name:16s} {key:11s} {value:9.1f} updates/s  {ratio}', flush=True)
    return rows


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
