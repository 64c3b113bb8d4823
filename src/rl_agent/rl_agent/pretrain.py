# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Pretrain a SAC policy in simulation with many parallel envs.

    python -m rl_agent.pretrain --config config/racecar_pretrain.yaml [--num-envs 64 ...]

Writes to ``out_dir``: ``checkpoint.pt`` (agent + both configs), ``d0_bag/`` (rosbag2 MCAP
of the last ``d0_transitions`` transitions: the D0 of online fine-tuning),
``learning_curve.png``, ``summary.json`` and TensorBoard scalars under ``tb/``.

The update-to-data ratio is per environment transition, so the number of gradient updates
per vector step grows with the number of envs (the paper's scaling rule).
"""

import argparse
import dataclasses
import importlib
import json
import math
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional

from rl_core import config_spec
from rl_core.config_spec import spec
from rl_agent.sac import SAC, SACConfig
import torch
import yaml

# Task name -> 'module:factory'. A factory takes (num_envs, model, randomize, device, seed,
# config) and returns a torch-native vector env; its ``task_config`` is saved with the run.
TASKS = {
    'racecar_parking': 'racecar_rl_env.vector_env:RacecarParkingVectorEnv',
}


@dataclasses.dataclass
class PretrainConfig:
    """Pretraining run settings (learner hyperparameters live in SACConfig)."""

    task: str = spec('racecar_parking', 'Registered task name.', choices=tuple(TASKS))
    model: str = spec('kinematic', 'Simulator dynamics used for pretraining.',
                      choices=('kinematic', 'pacejka'))
    randomize: bool = spec(True, 'Domain randomization of the dynamics parameters.')
    num_envs: int = spec(32, 'Parallel simulated envs.', low=1, high=65536)
    total_env_steps: int = spec(3_000_000, 'Stop after this many env transitions.', low=1)
    max_wall_clock_s: float = spec(1140.0, 'Stop after this many seconds (s).', low=1.0)
    target_success: float = spec(0.0, 'Stop once evaluation success reaches this '
                                 '(0 disables early stopping).', low=0.0, high=1.0)
    learning_starts: int = spec(5000, 'Random-action transitions before learning.', low=0)
    utd: float = spec(0.25, 'Gradient updates per env transition.', low=0.0, high=1000.0)
    batch_size: int = spec(256, 'Transitions per gradient update.', low=1, high=1 << 20)
    buffer_capacity: int = spec(1_000_000, 'Replay buffer capacity (transitions).', low=1)
    eval_every_updates: int = spec(2000, 'Gradient updates between evaluations.', low=1)
    eval_episodes: int = spec(100, 'Randomized evaluation episodes (run in parallel).',
                              low=1, high=100000)
    d0_transitions: int = spec(100_000, 'Transitions written to the D0 bag (0: none).', low=0)
    out_dir: str = spec('runs/pretrain_racecar', 'Output folder.')
    device: str = spec('cpu', "Torch device ('cpu', 'cuda', 'cuda:1').")
    seed: int = spec(0, 'Seed of envs, networks and sampling.', low=0, high=2 ** 31 - 1)

    def __post_init__(self):
        """Validate every field against its declared range."""
        config_spec.validate(self)


def make_env(cfg: PretrainConfig, num_envs: int, seed: int, model: Optional[str] = None):
    """Build the task's vector env from the registry."""
    module, name = TASKS[cfg.task].split(':')
    factory = getattr(importlib.import_module(module), name)
    return factory(num_envs, model=model or cfg.model, randomize=cfg.randomize,
                   device=cfg.device, seed=seed)


@torch.no_grad()
def evaluate(agent: SAC, env, deterministic: bool = True) -> Dict[str, float]:
    """Run one episode in each env of ``env`` and return success rate and mean return."""
    obs, _ = env.reset()
    n = env.num_envs
    finished = torch.zeros(n, dtype=torch.bool, device=obs.device)
    success = torch.zeros(n, dtype=torch.bool, device=obs.device)
    returns = torch.zeros(n, device=obs.device)
    final_dist = torch.zeros(n, device=obs.device)
    while not bool(finished.all()):
        obs, _, _, _, info = env.step(agent.act(obs, deterministic=deterministic))
        done = info['episode_done'] & ~finished
        success |= done & info['success']
        returns = torch.where(done, info['episode_return'], returns)
        final_dist = torch.where(done, info['final_distance'], final_dist)
        finished |= done
    return {'success_rate': float(success.float().mean()),
            'return_mean': float(returns.mean()),
            'final_distance_median': float(final_dist.median())}


def plot_curve(history: List[Dict[str, float]], path: str, title: str) -> None:
    """Write success rate and return against env steps and wall-clock to a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    steps = [h['env_steps'] for h in history]
    axes[0].plot(steps, [h['success_rate'] for h in history], 'o-')
    axes[0].set_xlabel('env transitions')
    axes[0].set_ylabel('eval success rate')
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].grid(alpha=0.3)
    axes[1].plot([h['wall_clock_s'] / 60 for h in history],
                 [h['return_mean'] for h in history], 'o-', color='tab:orange')
    axes[1].set_xlabel('wall-clock (min)')
    axes[1].set_ylabel('eval return (mean)')
    axes[1].grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class Pretrainer:
    """Collect with many envs, update at the configured UTD, evaluate, write artefacts."""

    def __init__(self, cfg: PretrainConfig, sac_cfg: SACConfig,
                 log: Callable[[str], None] = print):
        from rl_replay.buffer import ReplayBuffer
        self.cfg = cfg
        torch.manual_seed(cfg.seed)
        self.env = make_env(cfg, cfg.num_envs, cfg.seed)
        self.eval_env = make_env(cfg, cfg.eval_episodes, cfg.seed + 10_000)
        obs_dim = self.env.single_observation_space.shape[0]
        action_dim = self.env.single_action_space.shape[0]
        self.sac_cfg = config_spec.replace(sac_cfg, obs_dim=obs_dim, action_dim=action_dim)
        self.agent = SAC(self.sac_cfg, cfg.device)
        self.buffer = ReplayBuffer(min(cfg.buffer_capacity, cfg.total_env_steps), obs_dim,
                                   action_dim, device=cfg.device)
        self.sample_gen = torch.Generator(cfg.device).manual_seed(cfg.seed + 1)
        self.log = log
        self.history: List[Dict[str, float]] = []

    def run_info(self) -> Dict[str, Any]:
        """Plain-data description of the run saved next to every artefact."""
        task_config = getattr(self.env, 'task_config', None)
        if dataclasses.is_dataclass(task_config):
            task_config = dataclasses.asdict(task_config)
        return {'pretrain': config_spec.to_dict(self.cfg),
                'sac': config_spec.to_dict(self.sac_cfg),
                'env': json.loads(json.dumps(task_config, default=str))}

    def train(self) -> Dict[str, Any]:
        """Run until the step, wall-clock or success budget is spent; return the summary."""
        from torch.utils.tensorboard import SummaryWriter
        from tqdm import tqdm
        cfg = self.cfg
        os.makedirs(cfg.out_dir, exist_ok=True)
        writer = SummaryWriter(os.path.join(cfg.out_dir, 'tb'))
        start = time.monotonic()
        obs, _ = self.env.reset(seed=cfg.seed)
        env_steps, updates, owed = 0, 0, 0.0
        next_eval = cfg.eval_every_updates
        train_success: List[float] = []
        metrics: Dict[str, torch.Tensor] = {}
        bar = tqdm(total=cfg.total_env_steps, unit='step', dynamic_ncols=True,
                   disable=not sys.stderr.isatty() and os.environ.get('CI') == 'true')
        stop_reason = 'total_env_steps'
        while env_steps < cfg.total_env_steps:
            if env_steps < cfg.learning_starts:
                action = torch.rand(cfg.num_envs, self.sac_cfg.action_dim,
                                    generator=self.sample_gen, device=cfg.device) * 2 - 1
            else:
                action = self.agent.act(obs)
            next_obs, reward, terminated, truncated, info = self.env.step(action)
            done = info['episode_done']
            real_next = torch.where(done.unsqueeze(-1), info['final_obs'], next_obs)
            self.buffer.add_batch(obs, action, reward, real_next, terminated, truncated)
            self.agent.observe(obs)
            if bool(done.any()):
                train_success.extend(info['success'][done].float().tolist())
            obs = next_obs
            env_steps += cfg.num_envs
            bar.update(cfg.num_envs)
            if env_steps >= cfg.learning_starts:
                owed += cfg.utd * cfg.num_envs
                while owed >= 1.0:
                    metrics = self.agent.update(self.buffer.sample(cfg.batch_size,
                                                                   self.sample_gen))
                    owed -= 1.0
                    updates += 1
            if updates >= next_eval:
                next_eval += cfg.eval_every_updates
                row = self._evaluate_and_log(writer, env_steps, updates, start, metrics,
                                             train_success)
                train_success = []
                bar.set_postfix(success=f"{row['success_rate']:.2f}",
                                ret=f"{row['return_mean']:.1f}")
                if cfg.target_success > 0 and row['success_rate'] >= cfg.target_success:
                    stop_reason = 'target_success'
                    break
            if time.monotonic() - start > cfg.max_wall_clock_s:
                stop_reason = 'max_wall_clock_s'
                break
        bar.close()
        if not self.history or self.history[-1]['updates'] != updates:
            self._evaluate_and_log(writer, env_steps, updates, start, metrics, train_success)
        writer.close()
        return self._finish(env_steps, updates, start, stop_reason)

    def _evaluate_and_log(self, writer, env_steps, updates, start, metrics, train_success):
        row = evaluate(self.agent, self.eval_env)
        row.update(env_steps=env_steps, updates=updates,
                   wall_clock_s=time.monotonic() - start)
        self.history.append(row)
        for key in ('success_rate', 'return_mean', 'final_distance_median'):
            writer.add_scalar(f'eval/{key}', row[key], env_steps)
        for key, value in metrics.items():
            writer.add_scalar(f'train/{key}', float(value), env_steps)
        if train_success:
            writer.add_scalar('train/success_rate', sum(train_success) / len(train_success),
                              env_steps)
        writer.add_scalar('perf/updates_per_s', updates / max(row['wall_clock_s'], 1e-9),
                          env_steps)
        self.log(f"[{row['wall_clock_s']:7.1f} s] env steps {env_steps:>9d}  updates "
                 f"{updates:>7d}  eval success {row['success_rate']:.2f}  return "
                 f"{row['return_mean']:7.2f}  median final dist "
                 f"{row['final_distance_median']:.2f} m")
        self.agent.save(os.path.join(self.cfg.out_dir, 'checkpoint.pt'), extra=self.run_info())
        return row

    def _finish(self, env_steps, updates, start, stop_reason) -> Dict[str, Any]:
        cfg = self.cfg
        wall = time.monotonic() - start
        final = self.history[-1]
        best = max(self.history, key=lambda h: h['success_rate'])
        summary = {'success_rate': final['success_rate'], 'return_mean': final['return_mean'],
                   'eval_episodes': cfg.eval_episodes, 'env_steps': env_steps,
                   'updates': updates, 'wall_clock_s': round(wall, 1),
                   'best_success_rate': best['success_rate'], 'stop_reason': stop_reason,
                   'history': self.history}
        ckpt = os.path.join(cfg.out_dir, 'checkpoint.pt')
        self.agent.save(ckpt, extra=self.run_info())
        paths = {'checkpoint': ckpt}
        if cfg.d0_transitions > 0 and len(self.buffer) > 0:
            from rl_replay.bag_io import write_bag
            arrays = self.buffer.arrays()
            keep = min(cfg.d0_transitions, len(self.buffer))
            arrays = {k: v[-keep:] for k, v in arrays.items()}
            bag = os.path.join(cfg.out_dir, 'd0_bag')
            if os.path.exists(bag):
                import shutil
                shutil.rmtree(bag)
            write_bag(bag, arrays, trial_id='pretrain', metadata=self.run_info())
            paths['d0_bag'] = bag
        png = os.path.join(cfg.out_dir, 'learning_curve.png')
        plot_curve(self.history, png, f'{cfg.task} pretraining ({cfg.model}, '
                                      f'{cfg.num_envs} envs)')
        paths['learning_curve'] = png
        summary['paths'] = paths
        with open(os.path.join(cfg.out_dir, 'summary.json'), 'w') as f:
            json.dump(summary, f, indent=2)
        self.log(f"Pretraining done ({stop_reason}): success {summary['success_rate']:.0%} of "
                 f'{cfg.eval_episodes} randomized episodes, return '
                 f"{summary['return_mean']:.2f}, {env_steps} env steps, {updates} updates, "
                 f'{wall / 60:.1f} min wall-clock')
        for key, path in paths.items():
            self.log(f'  {key}: {path}')
        return summary


def load_yaml_config(path: Optional[str]) -> Dict[str, Dict[str, Any]]:
    """Read ``pretrain:`` and ``sac:`` sections of a YAML file (both optional)."""
    if not path:
        return {'pretrain': {}, 'sac': {}}
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    unknown = sorted(set(data) - {'pretrain', 'sac'})
    if unknown:
        raise ValueError(f'{path}: unknown section(s) {unknown}; expected pretrain, sac')
    return {'pretrain': data.get('pretrain') or {}, 'sac': data.get('sac') or {}}


def build_configs(argv=None):
    """Parse flags and YAML into (PretrainConfig, SACConfig); flags override the file."""
    parser = argparse.ArgumentParser(description='Pretrain SAC in simulation.')
    parser.add_argument('--config', help='YAML file with pretrain: and sac: sections')
    config_spec.add_arguments(parser, PretrainConfig)
    config_spec.add_arguments(parser, SACConfig, prefix='sac_')
    args = parser.parse_args(argv)
    data = load_yaml_config(args.config)
    pre = {**data['pretrain'], **config_spec.overrides_from_args(args, PretrainConfig)}
    sac = {**data['sac'], **config_spec.overrides_from_args(args, SACConfig, 'sac_')}
    return (config_spec.from_dict(PretrainConfig, pre), config_spec.from_dict(SACConfig, sac))


def main(argv=None) -> int:
    """Command-line entry point."""
    try:
        cfg, sac_cfg = build_configs(argv)
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    torch.set_num_threads(max(1, torch.get_num_threads()))
    summary = Pretrainer(cfg, sac_cfg).train()
    return 0 if math.isfinite(summary['return_mean']) else 1


if __name__ == '__main__':
    sys.exit(main())
