# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The simulated sim-to-online experiment for the race car, end to end.

    python -m rl_agent.sim_to_online run        # pretrain (or reuse), fine-tune via ROS 2
    python -m rl_agent.sim_to_online ablation   # full recipe vs naive, several seeds
    python -m rl_agent.sim_to_online table runs/*/ablation.json   # merge seed runs

``run``: pretrains on the kinematic model (reusing ``runs/pretrain_racecar`` when its
checkpoint and D0 bag exist), then starts the ROS 2 graph of ``config/racecar.yaml`` (sim
bridge with the Pacejka "real" car, driver, env, agent, replay) as processes with DDS on
loopback, fine-tunes for ``--episodes`` episodes, and finally evaluates pi0 and the
fine-tuned policy on 100 episodes of the same "real" car.

``ablation``: the same online protocol without ROS (the learner core on one simulated
"real" car, identical episode by episode), comparing the full recipe (D0 retention with
annealed alpha, warm start, asymmetric actor updates M=20, actor lr 1e-5) with the naive
one (M=1, shared learning rate 3e-4, no D0, no warm start) over several seeds.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Dict, List

import torch
import yaml

ROOT = pathlib.Path(__file__).resolve()
CONFIG = 'config/racecar.yaml'
PRETRAIN_CONFIG = 'config/racecar_pretrain.yaml'
NODES = [('sim_bridge', 'sim_bridge_node', 'sim_bridge'),
         ('racecar_rl_env', 'racecar_driver_node', 'racecar_driver'),
         ('racecar_rl_env', 'racecar_env_node', 'racecar_env'),
         ('rl_agent', 'agent_node', 'rl_agent'),
         ('rl_replay', 'replay_node', 'rl_replay')]

RECIPES = {
    'full': {'sac': {'actor_update_period': 20, 'actor_lr': 1e-5, 'critic_lr': 3e-4},
             'online': {'use_offline_data': True, 'warm_start_episodes': 1}},
    'naive': {'sac': {'actor_update_period': 1, 'actor_lr': 3e-4, 'critic_lr': 3e-4},
              'online': {'use_offline_data': False, 'warm_start_episodes': 0,
                         'min_replay': 1}},
}


def real_car(config_path: str = CONFIG) -> Dict:
    """Model and parameter shifts of the sim bridge's "real" car, from the params file."""
    params = yaml.safe_load(open(config_path))['sim_bridge']['ros__parameters']['racecar']
    return {'model': params['model'], 'overrides': json.loads(params['param_overrides'])}


def ensure_pretrained(out_dir: str, target_success: float, log=print) -> str:
    """Reuse a finished pretraining run in ``out_dir`` or run one; returns out_dir."""
    summary = pathlib.Path(out_dir) / 'summary.json'
    if summary.is_file() and (pathlib.Path(out_dir) / 'd0_bag' / 'metadata.yaml').is_file():
        data = json.loads(summary.read_text())
        log(f"reusing pretraining in {out_dir}: success {data['success_rate']:.0%} "
            f'(delete the folder to pretrain again)')
        return out_dir
    from rl_agent.pretrain import build_configs, Pretrainer
    cfg, sac_cfg = build_configs(['--config', PRETRAIN_CONFIG, '--out-dir', out_dir,
                                  '--target-success', str(target_success)])
    Pretrainer(cfg, sac_cfg, log=log).train()
    return out_dir


@torch.no_grad()
def evaluate_on_real(checkpoint: str, car: Dict, episodes: int = 100, seed: int = 123):
    """Success rate and mean return of a checkpoint's deterministic policy on the real car."""
    from racecar_rl_env.vector_env import RacecarParkingVectorEnv
    from rl_agent.pretrain import evaluate
    from rl_agent.sac import SAC
    agent = SAC.load(checkpoint)
    env = RacecarParkingVectorEnv(episodes, model=car['model'], randomize=False,
                                  param_overrides=car['overrides'], seed=seed)
    env.reset(seed=seed)
    return evaluate(agent, env)


# ------------------------------------------------------------------------- through ROS 2
def run_graph(run_dir: pathlib.Path, pretrain_dir: str, episodes: int, seed: int,
              log=print) -> List[Dict]:
    """Fine-tune through the ROS 2 graph; returns the agent's per-episode history."""
    data = yaml.safe_load(open(CONFIG))
    agent = data['rl_agent']['ros__parameters']
    agent['agent'].update(checkpoint=f'{pretrain_dir}/checkpoint.pt',
                          online_checkpoint=str(run_dir / 'agent_online.pt'),
                          d0_bags=[f'{pretrain_dir}/d0_bag'], max_episodes=episodes)
    agent['sac']['seed'] = seed
    agent.setdefault('online', {})['seed'] = seed
    replay = data['rl_replay']['ros__parameters']['replay']
    replay.update(bag_root=str(run_dir / 'bags'), trial_id=f'racecar_seed{seed}')
    params = run_dir / 'params.yaml'
    params.write_text(yaml.safe_dump(data))
    env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST', PYTHONUNBUFFERED='1')
    env.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    install = pathlib.Path(os.environ.get('SIM2ONLINE_INSTALL', 'install'))
    procs = {}
    try:
        for package, exe, name in NODES:
            log_file = open(run_dir / f'{name}.log', 'w')
            procs[name] = subprocess.Popen(
                [str(install / package / 'lib' / package / exe), '--ros-args',
                 '--params-file', str(params)], env=env, stdout=log_file,
                stderr=subprocess.STDOUT, start_new_session=True)
        history_path = run_dir / 'agent_online_history.json'
        shown = 0
        while procs['rl_agent'].poll() is None:
            for name, proc in procs.items():
                if proc.poll() is not None and name != 'rl_agent':
                    raise RuntimeError(f'{name} exited with {proc.returncode}; see '
                                       f'{run_dir}/{name}.log')
            if history_path.is_file():
                rows = json.loads(history_path.read_text())
                for row in rows[shown:]:
                    log(f"  episode {row['episode']:3d}: return {row['return']:7.2f}  "
                        f"success {bool(row['success'])!s:5}  updates "
                        f"{row.get('updates', 0)}")
                shown = len(rows)
            time.sleep(1.0)
        if procs['rl_agent'].returncode != 0:
            raise RuntimeError(f'agent failed; see {run_dir}/rl_agent.log')
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, 2)
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
    return json.loads((run_dir / 'agent_online_history.json').read_text())


def plot_online(history: List[Dict], evals: Dict[str, Dict], path: pathlib.Path, title: str):
    """Per-episode returns and the pi0 / fine-tuned evaluation on the real car."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot([h['episode'] for h in history], [h['return'] for h in history], 'o-')
    axes[0].set_xlabel('online episode')
    axes[0].set_ylabel('return')
    axes[0].grid(alpha=0.3)
    names = list(evals)
    axes[1].bar(names, [evals[n]['success_rate'] for n in names], color=['grey', 'tab:green'])
    axes[1].set_ylim(0, 1)
    axes[1].set_ylabel('success on the real car (100 episodes)')
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cmd_run(args) -> int:
    """Run the main job."""
    start = time.monotonic()
    pretrain_dir = ensure_pretrained(args.pretrain_dir, args.target_success)
    car = real_car()
    run_dir = pathlib.Path(args.out_dir) / time.strftime('%Y%m%d-%H%M%S')
    run_dir.mkdir(parents=True)
    print(f"fine-tuning online through ROS 2 on the 'real' car ({car['model']}, "
          f"{car['overrides']}) for {args.episodes} episodes; logs in {run_dir}")
    history = run_graph(run_dir, pretrain_dir, args.episodes, args.seed)
    evals = {'pi0': evaluate_on_real(f'{pretrain_dir}/checkpoint.pt', car),
             'fine-tuned': evaluate_on_real(str(run_dir / 'agent_online.pt'), car)}
    plot_online(history, evals, run_dir / 'online.png', 'race car: sim-to-online via ROS 2')
    summary = {'history': history, 'eval_on_real_car': evals, 'real_car': car,
               'wall_clock_s': round(time.monotonic() - start, 1)}
    (run_dir / 'summary.json').write_text(json.dumps(summary, indent=2))
    for name, row in evals.items():
        print(f"{name:>10}: success {row['success_rate']:.0%}  return "
              f"{row['return_mean']:.1f}  (100 episodes on the real car)")
    print(f'bags: {run_dir}/bags   plot: {run_dir}/online.png   summary: '
          f"{run_dir}/summary.json   wall-clock {summary['wall_clock_s'] / 60:.1f} min")
    return 0


# ------------------------------------------------------------------------- ablation
def online_trial(pretrain_dir: str, recipe: str, seed: int, episodes: int, utd: float,
                 car: Dict, eval_every: int = 0, log=None, stop_at_success: float = 2.0
                 ) -> Dict:
    """
    One online trial of a recipe on one simulated real car (no ROS, same protocol).

    Every ``eval_every`` episodes (0: only at the end) the deterministic policy is evaluated
    on 100 episodes of the real car; the trial ends early once an evaluation reaches
    ``stop_at_success``. ``log`` receives one line per episode.
    """
    from racecar_rl_env.vector_env import RacecarParkingVectorEnv
    from rl_core import config_spec
    from rl_agent.online import load_offline, OnlineConfig, OnlineLearner
    from rl_agent.pretrain import evaluate
    from rl_agent.sac import SAC
    spec = RECIPES[recipe]
    agent = SAC.load(f'{pretrain_dir}/checkpoint.pt', seed=seed, **spec['sac'])
    online_cfg = config_spec.replace(OnlineConfig(), utd=utd, seed=seed, **spec['online'])
    offline = load_offline([f'{pretrain_dir}/d0_bag']) if online_cfg.use_offline_data else None
    learner = OnlineLearner(agent, online_cfg, offline)
    env = RacecarParkingVectorEnv(1, model=car['model'], randomize=False,
                                  param_overrides=car['overrides'], seed=seed)
    eval_env = RacecarParkingVectorEnv(100, model=car['model'], randomize=False,
                                       param_overrides=car['overrides'], seed=123)
    curve = []
    obs, _ = env.reset(seed=seed)
    for episode in range(1, episodes + 1):
        done = False
        while not done:
            action = agent.act(obs)
            next_obs, reward, terminated, truncated, info = env.step(action)
            done = bool(info['episode_done'][0])
            real_next = info['final_obs'] if done else next_obs
            learner.add_transitions(obs, action, reward, real_next, terminated, truncated)
            obs = next_obs
        learner.end_episode(float(info['episode_return'][0]), bool(info['success'][0]))
        phase = learner.train_phase()
        line = (f'{recipe} seed {seed} episode {episode:3d}: return '
                f"{float(info['episode_return'][0]):7.2f} success {bool(info['success'][0])!s:5}"
                f" updates {phase['updates']}")
        stop = False
        if episode == episodes or (eval_every and episode % eval_every == 0):
            eval_env.reset(seed=123)
            result = evaluate(agent, eval_env)
            curve.append({'episode': episode, **result})
            line += (f"  | eval success {result['success_rate']:.0%} return "
                     f"{result['return_mean']:.1f}")
            stop = result['success_rate'] >= stop_at_success
        if log:
            log(line)
        if stop:
            break
    return {'recipe': recipe, 'seed': seed, 'history': learner.history, 'final': curve[-1],
            'eval_curve': curve}


def cmd_ablation(args) -> int:
    """Full recipe vs naive over seeds; prints the table."""
    pretrain_dir = ensure_pretrained(args.pretrain_dir, args.target_success)
    car = real_car()
    pi0 = evaluate_on_real(f'{pretrain_dir}/checkpoint.pt', car)
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for recipe in args.recipes:
            t0 = time.monotonic()
            row = online_trial(pretrain_dir, recipe, seed, args.episodes, args.utd, car,
                               args.eval_every, log=print if args.verbose else None)
            row['wall_clock_s'] = round(time.monotonic() - t0, 1)
            rows.append(row)
            print(f"seed {seed} {recipe:5s}: success {row['final']['success_rate']:.0%} "
                  f"return {row['final']['return_mean']:.1f} ({row['wall_clock_s']} s)",
                  flush=True)
    out = pathlib.Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / 'ablation.json').write_text(json.dumps({'pi0': pi0, 'rows': rows}, indent=1))
    print_table(pi0, rows)
    print(f'written: {out}/ablation.json')
    return 0


def print_table(pi0: Dict, rows: List[Dict]) -> None:
    """Print final success per recipe over seeds, and the mean evaluation curve."""
    recipes = sorted({r['recipe'] for r in rows}, key=list(RECIPES).index)
    seeds = sorted({r['seed'] for r in rows})
    print(f"\npi0 on the real car: success {pi0['success_rate']:.0%}, return "
          f"{pi0['return_mean']:.1f}; seeds {seeds}")
    print(f"{'recipe':8s} {'success mean':>12s} {'min':>5s} {'max':>5s} {'return':>8s}  "
          'per seed')
    for recipe in recipes:
        sel = [r['final'] for r in rows if r['recipe'] == recipe]
        s = [r['success_rate'] for r in sel]
        ret = sum(r['return_mean'] for r in sel) / len(sel)
        print(f'{recipe:8s} {sum(s) / len(s):12.0%} {min(s):5.0%} {max(s):5.0%} {ret:8.1f}  '
              + ' '.join(f'{v:.0%}' for v in s))
    episodes = sorted({c['episode'] for r in rows for c in r.get('eval_curve', [])})
    if len(episodes) > 1:
        print('mean evaluation success after N online episodes:')
        print(f"{'recipe':8s} " + ' '.join(f'{e:>5d}' for e in episodes))
        for recipe in recipes:
            cells = []
            for e in episodes:
                vals = [c['success_rate'] for r in rows if r['recipe'] == recipe
                        for c in r.get('eval_curve', []) if c['episode'] == e]
                cells.append(f'{sum(vals) / len(vals):5.0%}' if vals else '    -')
            print(f'{recipe:8s} ' + ' '.join(cells))


def cmd_table(args) -> int:
    """Merge ablation.json files (e.g. seeds run in parallel) and print the table."""
    rows, pi0 = [], None
    for path in args.files:
        data = json.loads(pathlib.Path(path).read_text())
        pi0 = data['pi0']
        rows.extend(data['rows'])
    print_table(pi0, rows)
    return 0


def main(argv=None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    sub = parser.add_subparsers(dest='command', required=True)
    for name in ('run', 'ablation'):
        p = sub.add_parser(name)
        p.add_argument('--pretrain-dir', default='runs/pretrain_racecar')
        p.add_argument('--target-success', type=float, default=0.9,
                       help='stop pretraining early at this evaluation success')
        p.add_argument('--episodes', type=int, default=30)
        p.add_argument('--out-dir', default=f'runs/sim_to_online_{name}')
    sub.choices['run'].add_argument('--seed', type=int, default=0)
    sub.choices['ablation'].add_argument('--seeds', type=int, default=3)
    sub.choices['ablation'].add_argument('--utd', type=float, default=10.0)
    sub.choices['ablation'].add_argument('--first-seed', type=int, default=0)
    sub.choices['ablation'].add_argument('--recipes', nargs='+', default=['full', 'naive'],
                                         choices=sorted(RECIPES))
    sub.choices['ablation'].add_argument('--eval-every', type=int, default=0,
                                         help='evaluate every N episodes (0: at the end)')
    sub.choices['ablation'].add_argument('--verbose', action='store_true',
                                         help='print one line per online episode')
    table = sub.add_parser('table', help='merge ablation.json files and print the table')
    table.add_argument('files', nargs='+')
    args = parser.parse_args(argv)
    return {'run': cmd_run, 'ablation': cmd_ablation, 'table': cmd_table}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
