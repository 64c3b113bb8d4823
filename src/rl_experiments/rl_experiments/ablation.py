# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The ablation grid of the online phase, with bootstrap confidence intervals.

Arms (``ARMS``): the full recipe; the full recipe without data retention (no D0), without
warm start (updates from the first episode on), without asymmetric updates (actor every
critic step, shared learning rate 3e-4); naive fine-tuning (none of the three); and the
full recipe with a fixed 50/50 online/offline split instead of annealing alpha 0.5 -> 1.

``sim2online ablation --task <name> --seeds 10 --jobs 2`` runs every (arm, seed) trial of
the online protocol without ROS (``sim_to_online.online_trial``), each in its own process
with one torch thread, and writes each finished trial as its own JSON file under
``<out_dir>/trials/``: a killed grid loses only running trials and a re-run skips finished
ones. ``sim2online table <files or folders>`` merges trial files (and old
``ablation.json`` files) and prints, per arm, the mean success and return after each
evaluated episode count with 95 % bootstrap confidence intervals, a verdict for each of the
paper's three findings (bootstrap CI of the difference full - ablated arm), and optionally
writes a PNG with CI bands and a markdown table.
"""

import concurrent.futures
import json
import multiprocessing
import os
import pathlib
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

_FULL_SAC = {'actor_update_period': 20, 'actor_lr': 1e-5, 'critic_lr': 3e-4}
_SYM_SAC = {'actor_update_period': 1, 'actor_lr': 3e-4, 'critic_lr': 3e-4}
_FULL_ONLINE = {'use_offline_data': True, 'warm_start_episodes': 1}
ARMS: Dict[str, Dict] = {
    'full': {'sac': _FULL_SAC, 'online': _FULL_ONLINE},
    'no_retention': {'sac': _FULL_SAC, 'online': {**_FULL_ONLINE,
                                                  'use_offline_data': False}},
    'no_warm_start': {'sac': _FULL_SAC, 'online': {**_FULL_ONLINE, 'warm_start_episodes': 0,
                                                   'min_replay': 1}},
    'no_asymmetric': {'sac': _SYM_SAC, 'online': _FULL_ONLINE},
    'naive': {'sac': _SYM_SAC, 'online': {'use_offline_data': False,
                                          'warm_start_episodes': 0, 'min_replay': 1}},
    'fixed_alpha': {'sac': _FULL_SAC, 'online': {**_FULL_ONLINE, 'alpha_start': 0.5,
                                                 'alpha_end': 0.5}},
}
#: The paper's findings: (name, the arm that removes that stabilizer).
FINDINGS = (('data retention helps', 'no_retention'),
            ('warm start helps', 'no_warm_start'),
            ('asymmetric actor/critic updates help', 'no_asymmetric'),
            ('the full recipe beats naive fine-tuning', 'naive'),
            ('annealing alpha beats a fixed 50/50 split', 'fixed_alpha'))


# ------------------------------------------------------------------------- statistics
def bootstrap_ci(values: Sequence[float], resamples: int = 2000, level: float = 0.95,
                 seed: int = 0) -> Tuple[float, float, float]:
    """Return (mean, low, high): the mean and its percentile bootstrap CI."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError('bootstrap_ci needs at least one value')
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(x.mean()), float(low), float(high)


def bootstrap_diff_ci(a: Sequence[float], b: Sequence[float], resamples: int = 2000,
                      level: float = 0.95, seed: int = 0) -> Tuple[float, float, float]:
    """Return (mean(a) - mean(b), low, high) with independent resampling of a and b."""
    xa, xb = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    da = xa[rng.integers(0, xa.size, size=(resamples, xa.size))].mean(axis=1)
    db = xb[rng.integers(0, xb.size, size=(resamples, xb.size))].mean(axis=1)
    diff = da - db
    tail = (1.0 - level) / 2.0
    return (float(xa.mean() - xb.mean()), float(np.quantile(diff, tail)),
            float(np.quantile(diff, 1 - tail)))


def verdict(diff: Tuple[float, float, float]) -> str:
    """Word a CI of (full - ablated): reproduced, reversed, or not resolved."""
    mean, low, high = diff
    if low > 0:
        return f'reproduced (full - ablated = {mean:+.2f}, 95 % CI [{low:+.2f}, {high:+.2f}])'
    if high < 0:
        return (f'reversed here (full - ablated = {mean:+.2f}, 95 % CI [{low:+.2f}, '
                f'{high:+.2f}])')
    return (f'not resolved at this sample size (full - ablated = {mean:+.2f}, 95 % CI '
            f'[{low:+.2f}, {high:+.2f}] contains 0)')


# ------------------------------------------------------------------------- trial files
def load_rows(paths: Iterable[str]) -> Tuple[Optional[Dict], List[Dict]]:
    """Read trial files, folders of them and ``ablation.json`` files; returns (pi0, rows)."""
    pi0, rows = None, []
    files: List[pathlib.Path] = []
    for path in map(pathlib.Path, paths):
        files.extend(sorted(path.rglob('*.json')) if path.is_dir() else [path])
    for f in files:
        data = json.loads(f.read_text())
        if 'rows' in data:                      # an ablation.json of several trials
            pi0 = data.get('pi0', pi0)
            rows.extend(data['rows'])
        elif 'recipe' in data:                  # one trial
            pi0 = data.get('pi0', pi0)
            rows.append(data)
    return pi0, rows


def curves(rows: List[Dict], key: str) -> Dict[str, Dict[int, List[float]]]:
    """Per arm and evaluated episode count, the per-seed values of ``key``."""
    out: Dict[str, Dict[int, List[float]]] = {}
    for r in rows:
        for c in r.get('eval_curve', [r['final']] if 'final' in r else []):
            out.setdefault(r['recipe'], {}).setdefault(int(c.get('episode', 0)), []).append(
                float(c[key]))
    return out


def _per_seed(rows: List[Dict], arm: str, fn) -> List[float]:
    """``fn(row)`` for every trial of ``arm`` (one value per seed)."""
    return [float(fn(r)) for r in rows if r['recipe'] == arm]


def _eval_successes(row: Dict) -> List[float]:
    """Return the success rate of each evaluation of a trial (its final one if no curve)."""
    return [c['success_rate'] for c in row.get('eval_curve') or [row['final']]]


def _area(row: Dict) -> float:
    """Mean evaluation success over all evaluations of a trial (area under its curve)."""
    return float(np.mean(_eval_successes(row)))


def _lowest(row: Dict) -> float:
    """Return the trial's lowest evaluation success (the dip, if fine-tuning unlearns)."""
    return float(min(_eval_successes(row)))


def _online_success(row: Dict) -> float:
    """Fraction of the trial's online episodes that succeeded."""
    history = row.get('history') or []
    return float(np.mean([h['success'] for h in history])) if history else float('nan')


_SUMMARIES = {'mean success over evaluations': _area, 'lowest evaluation': _lowest,
              'online episodes succeeded': _online_success}


def _finite(values: Sequence[float]) -> List[float]:
    return [v for v in values if np.isfinite(v)]


def _cell(values: Sequence[float], fmt: str) -> str:
    values = _finite(values)
    if not values:
        return '-'
    m, lo, hi = bootstrap_ci(values)
    return f'{m:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]'


def summary_table(pi0: Optional[Dict], rows: List[Dict]) -> str:
    """
    Markdown: per arm, success and return after each N with 95 % bootstrap CIs; findings.

    The success table also gives each arm's mean success over all its evaluations (the area
    under its learning curve), its lowest evaluation (the dip: how much of pi0 fine-tuning
    unlearned) and the fraction of online episodes that succeeded (what the robot lived
    through). Each of the paper's findings is judged on each of these: the final
    evaluation, the area, the dip and the online episodes (bootstrap CI of full - ablated).
    """
    order = [a for a in ARMS if any(r['recipe'] == a for r in rows)] + sorted(
        {r['recipe'] for r in rows} - set(ARMS))
    succ, ret = curves(rows, 'success_rate'), curves(rows, 'return_mean')
    episodes = sorted({e for arm in succ.values() for e in arm})
    lines = []
    if pi0:
        lines.append(f"pi0 on this variant: success {pi0['success_rate']:.0%}, return "
                     f"{pi0['return_mean']:.1f}")
        lines.append('')
    lines.append('| arm | seeds | ' + ' | '.join(f'success after {e}' for e in episodes)
                 + ' | mean over evaluations | lowest evaluation | online episodes succeeded |')
    lines.append('|---|---|' + '---|' * (len(episodes) + 3))
    for arm in order:
        cells = [_cell(succ.get(arm, {}).get(e, []), '.0%') for e in episodes]
        cells += [_cell(_per_seed(rows, arm, fn), '.0%') for fn in _SUMMARIES.values()]
        seeds = len({r['seed'] for r in rows if r['recipe'] == arm})
        lines.append(f'| {arm} | {seeds} | ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append('| arm | ' + ' | '.join(f'return after {e}' for e in episodes) + ' |')
    lines.append('|---|' + '---|' * len(episodes))
    for arm in order:
        lines.append(f'| {arm} | ' + ' | '.join(_cell(ret.get(arm, {}).get(e, []), '.1f')
                                                for e in episodes) + ' |')
    lines.append('')
    for name, arm in FINDINGS:
        if 'full' in succ and arm in succ:
            last = max(set(succ['full']) & set(succ[arm]), default=None)
            if last is None:
                continue
            lines.append(f'- {name} ({arm}, success after {last} episodes): ' + verdict(
                bootstrap_diff_ci(succ['full'][last], succ[arm][last])))
            for label, fn in _SUMMARIES.items():
                full, ablated = (_finite(_per_seed(rows, a, fn)) for a in ('full', arm))
                if full and ablated:
                    lines.append(f'- {name} ({arm}, {label}): ' + verdict(
                        bootstrap_diff_ci(full, ablated)))
    return '\n'.join(lines)


def plot(rows: List[Dict], path: str, title: str = '', pi0: Optional[Dict] = None) -> None:
    """Write a PNG: mean evaluation success and return vs online episodes, 95 % CI bands."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, label in ((axes[0], 'success_rate', 'evaluation success (100 episodes)'),
                           (axes[1], 'return_mean', 'evaluation return (100 episodes)')):
        values = curves(rows, key)
        for arm in [a for a in ARMS if a in values] + sorted(set(values) - set(ARMS)):
            eps = sorted(values[arm])
            stats = [bootstrap_ci(values[arm][e]) for e in eps]
            ax.plot(eps, [st[0] for st in stats], marker='o', label=arm)
            ax.fill_between(eps, [st[1] for st in stats], [st[2] for st in stats], alpha=0.15)
        if pi0 and key in pi0:
            ax.axhline(float(pi0[key]), color='k', linestyle='--', linewidth=1,
                       label='pi0 (no fine-tuning)')
        ax.set_xlabel('online episodes')
        ax.set_ylabel(label)
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or 'online fine-tuning: mean and 95 % bootstrap CI over seeds')
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------------- the grid
def _trial(job: Dict) -> Dict:
    """Run one (arm, seed) trial in a worker process and write its file."""
    os.environ['OMP_NUM_THREADS'] = '1'
    import torch
    torch.set_num_threads(1)
    from rl_experiments import sim_to_online
    t0 = time.monotonic()
    row = sim_to_online.online_trial(job['pretrain_dir'], job['recipe'], job['seed'],
                                     job['episodes'], job['utd'], variant=job['variant'],
                                     eval_every=job['eval_every'])
    row['wall_clock_s'] = round(time.monotonic() - t0, 1)
    row['pi0'] = job['pi0']
    path = pathlib.Path(job['path'])
    tmp = path.with_suffix('.tmp')
    tmp.write_text(json.dumps(row))
    tmp.replace(path)                         # a file exists only for a finished trial
    return row


def run_grid(pretrain_dir: str, arms: Sequence[str], seeds: Sequence[int], episodes: int,
             utd: float, variant: Optional[str], eval_every: int, out_dir: str, pi0: Dict,
             jobs: int = 1, log=print) -> List[Dict]:
    """Run every missing (arm, seed) trial, ``jobs`` at a time; return all rows."""
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        raise ValueError(f'unknown arms {unknown}; known: {list(ARMS)}')
    trials = pathlib.Path(out_dir) / 'trials'
    trials.mkdir(parents=True, exist_ok=True)
    todo = []
    for seed in seeds:
        for arm in arms:
            path = trials / f'{arm}_seed{seed}.json'
            if path.is_file():
                log(f'{arm} seed {seed}: already done ({path})')
                continue
            todo.append({'pretrain_dir': pretrain_dir, 'recipe': arm, 'seed': seed,
                         'episodes': episodes, 'utd': utd, 'variant': variant,
                         'eval_every': eval_every, 'pi0': pi0, 'path': str(path)})
    if jobs <= 1:
        for job in todo:
            row = _trial(job)
            log(f"{job['recipe']} seed {job['seed']}: success "
                f"{row['final']['success_rate']:.0%} ({row['wall_clock_s']} s)")
    else:
        ctx = multiprocessing.get_context('spawn')
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            futures = {pool.submit(_trial, job): job for job in todo}
            for fut in concurrent.futures.as_completed(futures):
                job, row = futures[fut], fut.result()
                log(f"{job['recipe']} seed {job['seed']}: success "
                    f"{row['final']['success_rate']:.0%} ({row['wall_clock_s']} s)")
    return load_rows([str(trials)])[1]
