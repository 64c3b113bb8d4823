# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Pretrain a SAC policy in simulation with many parallel envs, for any registered task.

    sim2online pretrain --task racecar_parking [--num-envs 64 ...]
    sim2online pretrain --config my_pretrain.yaml

Without ``--config`` the robot's own CPU-sized config (its registration's
``pretrain_config``) is used. Writes to ``out_dir``: ``checkpoint.pt`` (agent + the task
name and configuration + both run configs), ``d0_bag/`` (rosbag2 MCAP of the last
``d0_transitions`` transitions: the D0 of online fine-tuning), ``learning_curve.png``,
``summary.json`` and TensorBoard scalars under ``tb/`` (evaluation, losses, and the
per-term episode returns ``reward/<term>`` of training and evaluation episodes).

The update-to-data ratio is per environment transition, so the number of gradient updates
per vector step grows with the number of envs (the paper's scaling rule).
"""

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional

from rl_agent.sac import SAC, SACConfig
from rl_core import config_spec, registry
from rl_core.config_spec import spec
from rl_core.simulator import select_obs as select_final
from rl_core.task import split_observation
import torch
import yaml


@dataclasses.dataclass
class PretrainConfig:
    """Pretraining run settings (learner hyperparameters live in SACConfig)."""

    task: str = spec('racecar_parking', 'Registered task name (sim2online tasks).')
    variant: str = spec('sim', "Simulator variant used for pretraining (the robot's "
                        "registration names them; 'sim' is the randomised simulator).")
    randomize: bool = spec(True, 'Domain randomization of the simulator parameters.')
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
    out_dir: str = spec('runs/pretrain', 'Output folder.')
    device: str = spec('cpu', "Torch device ('cpu', 'cuda', 'cuda:1').")
    seed: int = spec(0, 'Seed of envs, networks and sampling.', low=0, high=2 ** 31 - 1)
    keep: str = spec('best', "Which policy becomes checkpoint.pt (pi0): 'best' (highest "
                     "evaluation success, then return, on the randomised simulator) or 'last'; "
                     'the other one is written too (checkpoint_last.pt / checkpoint_best.pt).',
                     choices=('best', 'last'))

    def __post_init__(self):
        """Validate every field against its declared range."""
        config_spec.validate(self)


def make_task(cfg: PretrainConfig, task_overrides: Optional[Dict[str, Any]] = None):
    """Build the registered task with optional config overrides; returns (task, plugin)."""
    plugin = registry.load(cfg.task)
    task_cls = plugin.load_task_class()
    base = config_spec.to_dict(task_cls.CONFIG())
    base.update(task_overrides or {})
    return task_cls(config_spec.from_dict(task_cls.CONFIG, base)), plugin


def make_env(cfg: PretrainConfig, num_envs: int, seed: int, variant: Optional[str] = None,
             task=None, randomize: Optional[bool] = None):
    """Build the task's vector simulator from the registry."""
    if task is None:
        task, plugin = make_task(cfg)
    else:
        plugin = registry.load(task.NAME)
    return plugin.make_simulator(task, num_envs, variant=variant or cfg.variant,
                                 randomize=cfg.randomize if randomize is None else randomize,
                                 device=cfg.device, seed=seed)


def act(agent: SAC, obs, deterministic: bool = False) -> torch.Tensor:
    """Actions for a state tensor or an ``Observation`` with pixels."""
    state, pixels = split_observation(obs)
    if pixels is None:
        return agent.act(state, deterministic=deterministic)
    return agent.act(state, deterministic=deterministic, pixels=pixels)


class EpisodeTermTracker:
    """Per-env running sums of the scaled reward terms; finished episodes' sums out."""

    def __init__(self):
        """Start empty (sized at the first step)."""
        self.sums: Dict[str, torch.Tensor] = {}

    def step(self, info) -> Dict[str, List[float]]:
        """Add this step's terms; return the finished episodes' per-term returns."""
        done = info['episode_done']
        finished: Dict[str, List[float]] = {}
        for name, value in info.get('reward_terms', {}).items():
            total = self.sums.get(name, torch.zeros_like(value)) + value
            if bool(done.any()):
                finished[name] = total[done].tolist()
            self.sums[name] = torch.where(done, torch.zeros_like(total), total)
        return finished


@torch.no_grad()
def evaluate(agent: SAC, env, deterministic: bool = True) -> Dict[str, float]:
    """
    Run one episode in each env of ``env``.

    Returns the success rate, the mean return, the median of each task metric
    (``<metric>_median``) and the mean per-term return (``reward/<term>``).
    """
    obs, _ = env.reset()
    n = env.num_envs
    device = split_observation(obs)[0].device
    finished = torch.zeros(n, dtype=torch.bool, device=device)
    success = torch.zeros(n, dtype=torch.bool, device=device)
    returns = torch.zeros(n, device=device)
    metrics: Dict[str, torch.Tensor] = {}
    terms: Dict[str, torch.Tensor] = {}
    sums: Dict[str, torch.Tensor] = {}
    while not bool(finished.all()):
        obs, _, _, _, info = env.step(act(agent, obs, deterministic))
        done = info['episode_done'] & ~finished
        success |= done & info['success']
        returns = torch.where(done, info['episode_return'], returns)
        for name, value in info.get('metrics', {}).items():
            metrics[name] = torch.where(done, value, metrics.get(name, torch.zeros_like(value)))
        for name, value in info.get('reward_terms', {}).items():
            sums[name] = sums.get(name, torch.zeros_like(value)) + torch.where(
                finished, torch.zeros_like(value), value)
            terms[name] = sums[name]
        finished |= done
    out = {'success_rate': float(success.float().mean()),
           'return_mean': float(returns.mean())}
    for name, value in metrics.items():
        out[f'{name}_median'] = float(value.median())
    for name, value in terms.items():
        out[f'reward/{name}'] = float(value.mean())
    return out


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
                 log: Callable[[str], None] = print,
                 task_overrides: Optional[Dict[str, Any]] = None):
        """Build the task, its simulators (training and evaluation), agent and buffer."""
        from rl_replay.buffer import ReplayBuffer
        self.cfg = cfg
        torch.manual_seed(cfg.seed)
        self.task, self.plugin = make_task(cfg, task_overrides)
        self.env = make_env(cfg, cfg.num_envs, cfg.seed, task=self.task)
        self.eval_env = make_env(cfg, cfg.eval_episodes, cfg.seed + 10_000, task=self.task)
        spec_ = self.task.observation_spec
        action_dim = self.task.action_spec.dim
        shapes = {'obs_dim': spec_.state_dim, 'action_dim': action_dim}
        if spec_.has_pixels:
            shapes['pixel_shape'] = tuple(spec_.pixel_shape)
        self.sac_cfg = config_spec.replace(sac_cfg, **shapes)
        self.agent = SAC(self.sac_cfg, cfg.device)
        self.buffer = ReplayBuffer(min(cfg.buffer_capacity, cfg.total_env_steps),
                                   spec_.state_dim, action_dim, device=cfg.device,
                                   pixel_shape=spec_.pixel_shape or None)
        self.sample_gen = torch.Generator(cfg.device).manual_seed(cfg.seed + 1)
        self.log = log
        self.history: List[Dict[str, float]] = []
        self.best_row: Optional[Dict[str, float]] = None

    def run_info(self) -> Dict[str, Any]:
        """Plain-data description of the run saved with the checkpoint and the D0 bag."""
        return {**self.task.to_run_info(),
                'pretrain': config_spec.to_dict(self.cfg),
                'sac': config_spec.to_dict(self.sac_cfg)}

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
        train_episodes: Dict[str, List[float]] = {'success_rate': []}
        terms = EpisodeTermTracker()
        metrics: Dict[str, torch.Tensor] = {}
        # The bar only on a terminal: in logs the evaluation lines say the same.
        bar = tqdm(total=cfg.total_env_steps, unit='step', dynamic_ncols=True,
                   disable=not sys.stderr.isatty())
        stop_reason = 'total_env_steps'
        while env_steps < cfg.total_env_steps:
            if env_steps < cfg.learning_starts:
                action = torch.rand(cfg.num_envs, self.sac_cfg.action_dim,
                                    generator=self.sample_gen, device=cfg.device) * 2 - 1
            else:
                action = act(self.agent, obs)
            next_obs, reward, terminated, truncated, info = self.env.step(action)
            done = info['episode_done']
            state, pixels = split_observation(obs)
            real_next, next_pixels = split_observation(
                select_final(done, info['final_obs'], next_obs))
            self.buffer.add_batch(state, action, reward, real_next, terminated, truncated,
                                  **({} if pixels is None else
                                     {'pixels': pixels, 'next_pixels': next_pixels}))
            self.agent.observe(state)
            for name, values in terms.step(info).items():
                train_episodes.setdefault(f'reward/{name}', []).extend(values)
            if bool(done.any()):
                train_episodes['success_rate'].extend(info['success'][done].float().tolist())
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
                                             train_episodes)
                train_episodes = {'success_rate': []}
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
            self._evaluate_and_log(writer, env_steps, updates, start, metrics, train_episodes)
        writer.close()
        return self._finish(env_steps, updates, start, stop_reason)

    def _evaluate_and_log(self, writer, env_steps, updates, start, metrics, train_episodes):
        row = evaluate(self.agent, self.eval_env)
        row.update(env_steps=env_steps, updates=updates,
                   wall_clock_s=time.monotonic() - start)
        self.history.append(row)
        for key, value in row.items():
            if key not in ('env_steps', 'updates', 'wall_clock_s'):
                writer.add_scalar(f'eval/{key}', value, env_steps)
        for key, value in metrics.items():
            writer.add_scalar(f'train/{key}', float(value), env_steps)
        for key, values in train_episodes.items():
            if values:
                writer.add_scalar(f'train/{key}', sum(values) / len(values), env_steps)
        writer.add_scalar('perf/updates_per_s', updates / max(row['wall_clock_s'], 1e-9),
                          env_steps)
        extra = '  '.join(f'{k[:-7]} {v:.2f}' for k, v in row.items() if k.endswith('_median'))
        self.log(f"[{row['wall_clock_s']:7.1f} s] env steps {env_steps:>9d}  updates "
                 f"{updates:>7d}  eval success {row['success_rate']:.2f}  return "
                 f"{row['return_mean']:7.2f}  {extra}")
        # Learning curves of off-policy RL on images are not monotone (the CPU Panda run rose
        # to 13 % and fell back to 2 %): the best evaluated policy is kept next to the last.
        best = self.best_row is None or (row['success_rate'], row['return_mean']) > (
            self.best_row['success_rate'], self.best_row['return_mean'])
        if best:
            self.best_row = row
        if self.cfg.keep == 'best':
            names = {'best': 'checkpoint.pt', 'last': 'checkpoint_last.pt'}
        else:
            names = {'best': 'checkpoint_best.pt', 'last': 'checkpoint.pt'}
        self.agent.save(os.path.join(self.cfg.out_dir, names['last']), extra=self.run_info())
        if best:
            self.agent.save(os.path.join(self.cfg.out_dir, names['best']),
                            extra=self.run_info())
        return row

    def _finish(self, env_steps, updates, start, stop_reason) -> Dict[str, Any]:
        cfg = self.cfg
        wall = time.monotonic() - start
        final = self.history[-1]
        best = self.best_row
        kept = best if cfg.keep == 'best' else final
        summary = {'success_rate': kept['success_rate'], 'return_mean': kept['return_mean'],
                   'checkpoint_updates': kept['updates'], 'keep': cfg.keep,
                   'last_success_rate': final['success_rate'],
                   'last_return_mean': final['return_mean'],
                   'eval_episodes': cfg.eval_episodes, 'env_steps': env_steps,
                   'updates': updates, 'wall_clock_s': round(wall, 1),
                   'best_success_rate': best['success_rate'],
                   'best_updates': best['updates'], 'stop_reason': stop_reason,
                   'history': self.history}
        ckpt = os.path.join(cfg.out_dir, 'checkpoint.pt')
        other = 'checkpoint_last.pt' if cfg.keep == 'best' else 'checkpoint_best.pt'
        paths = {'checkpoint': ckpt, other[:-3]: os.path.join(cfg.out_dir, other)}
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
        plot_curve(self.history, png, f'{cfg.task} pretraining ({cfg.variant}, '
                                      f'{cfg.num_envs} envs)')
        paths['learning_curve'] = png
        summary['paths'] = paths
        with open(os.path.join(cfg.out_dir, 'summary.json'), 'w') as f:
            json.dump(summary, f, indent=2)
        self.log(f'Pretraining done ({stop_reason}): pi0 = the {cfg.keep} policy (at '
                 f"{kept['updates']} updates): success {summary['success_rate']:.0%} of "
                 f'{cfg.eval_episodes} randomized episodes, return '
                 f"{summary['return_mean']:.2f}; last: success {final['success_rate']:.0%}, "
                 f"return {final['return_mean']:.2f}; {env_steps} env steps, {updates} "
                 f'updates, {wall / 60:.1f} min wall-clock')
        for key, path in paths.items():
            self.log(f'  {key}: {path}')
        return summary


SECTIONS = ('pretrain', 'sac', 'task_config')


def load_yaml_config(path: Optional[str]) -> Dict[str, Dict[str, Any]]:
    """Read the ``pretrain:``, ``sac:`` and ``task_config:`` sections of a YAML file."""
    if not path:
        return {key: {} for key in SECTIONS}
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ValueError(f'{path}: unknown section(s) {unknown}; expected {list(SECTIONS)}')
    return {key: data.get(key) or {} for key in SECTIONS}


def parser(prog: Optional[str] = None) -> argparse.ArgumentParser:
    """Command-line flags: one per config field, plus --config."""
    p = argparse.ArgumentParser(prog=prog, description='Pretrain SAC in simulation for a '
                                "registered task (default config: the robot's own).")
    p.add_argument('--config', help='YAML file with pretrain:, sac: and task_config: '
                   "sections (default: the task's registered pretraining config)")
    config_spec.add_arguments(p, PretrainConfig)
    config_spec.add_arguments(p, SACConfig, prefix='sac_')
    return p


def default_config_path(task_name: str) -> Optional[str]:
    """Return the robot's registered pretraining config, if it has one."""
    plugin = registry.load(task_name)
    return plugin.share_path('config', plugin.pretrain_config) if plugin.pretrain_config else None


def build_configs(argv=None, prog: Optional[str] = None):
    """Parse flags and YAML into (PretrainConfig, SACConfig, task overrides)."""
    args = parser(prog).parse_args(argv)
    flags = config_spec.overrides_from_args(args, PretrainConfig)
    path = args.config
    if path is None:
        path = default_config_path(flags.get('task', PretrainConfig().task))
    data = load_yaml_config(path)
    pre = {**data['pretrain'], **flags}
    sac = {**data['sac'], **config_spec.overrides_from_args(args, SACConfig, 'sac_')}
    cfg = config_spec.from_dict(PretrainConfig, pre)
    # An unknown name or a bad task field fails here, before anything is written; the
    # learner's shapes come from the task (a camera task gets its pixel shape).
    task, _ = make_task(cfg, data['task_config'])
    spec_ = task.observation_spec
    sac.setdefault('obs_dim', spec_.state_dim)
    sac.setdefault('action_dim', task.action_spec.dim)
    if spec_.has_pixels:
        sac.setdefault('pixel_shape', tuple(spec_.pixel_shape))
    return cfg, config_spec.from_dict(SACConfig, sac), data['task_config']


def main(argv=None, prog: Optional[str] = None) -> int:
    """Command-line entry point."""
    try:
        cfg, sac_cfg, task_overrides = build_configs(argv, prog)
        trainer = Pretrainer(cfg, sac_cfg, task_overrides=task_overrides)
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    summary = trainer.train()
    return 0 if math.isfinite(summary['return_mean']) else 1


if __name__ == '__main__':
    sys.exit(main())
