# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Between-episode training against a separate learner: the table from main-job runs.

Run the main job in both modes with the same seeds, e.g.

    sim2online run --task racecar_parking --seed 0 --learner separate \\
        --out-dir runs/learner_compare/separate
    sim2online run --task racecar_parking --seed 0 --learner between_episodes \\
        --out-dir runs/learner_compare/between_episodes

then ``python bench/learner_modes.py runs/learner_compare/*/*/`` prints, per run and per
mode: online successes (all, last 10 episodes), the online phase's wall-clock (agent start
to the last episode's end), successes per minute, gradient updates, and the fine-tuned
policy's success and return on 100 episodes of the "real" variant (pi0 alongside).
"""

import json
import pathlib
import statistics
import sys


def row(run_dir: pathlib.Path) -> dict:
    """Summarise one main-job run folder."""
    summary = json.loads((run_dir / 'summary.json').read_text())
    history = summary['history']
    minutes = history[-1]['wall_s'] / 60
    successes = sum(r['success'] for r in history)
    if summary.get('learner') == 'separate':
        updates = int(history[-1].get('weights_version', 0))  # the learner's steps in use
    else:
        updates = int(sum(r.get('updates', 0) for r in history))
    mode = summary.get('learner', 'between_episodes')
    if summary.get('utd') is not None:
        mode += f" (utd {summary['utd']:g})"
    return {'mode': mode,
            'run': f"seed {summary['seed']}" if 'seed' in summary else run_dir.name,
            'episodes': len(history), 'successes': successes,
            'last10': sum(r['success'] for r in history[-10:]), 'minutes': minutes,
            'per_min': successes / minutes, 'updates': updates,
            'transitions': int(sum(r['steps'] for r in history)),
            'final': summary['eval_on_real']['fine-tuned']['success_rate'],
            'final_return': summary['eval_on_real']['fine-tuned']['return_mean'],
            'pi0': summary['eval_on_real']['pi0']['success_rate']}


def main(argv=None) -> int:
    """Print the per-run table and the per-mode means."""
    dirs = [pathlib.Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    rows = [row(d) for d in dirs if (d / 'summary.json').is_file()]
    if not rows:
        print('no summary.json in the given folders', file=sys.stderr)
        return 2
    print('| mode | run | episodes | online successes (last 10) | online min | successes/min '
          '| updates / transitions | fine-tuned success / return (pi0) |')
    print('|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['mode']} | {r['run']} | {r['episodes']} | {r['successes']:.0f} "
              f"({r['last10']:.0f}) | {r['minutes']:.1f} | {r['per_min']:.2f} | "
              f"{r['updates']} / {r['transitions']} | {r['final']:.0%} / "
              f"{r['final_return']:.1f} ({r['pi0']:.0%}) |")
    for mode in sorted({r['mode'] for r in rows}):
        sel = [r for r in rows if r['mode'] == mode]
        print(f'{mode}: {len(sel)} runs, mean online minutes '
              f"{statistics.mean(r['minutes'] for r in sel):.1f}, successes/min "
              f"{statistics.mean(r['per_min'] for r in sel):.2f}, fine-tuned success "
              f"{statistics.mean(r['final'] for r in sel):.0%}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
