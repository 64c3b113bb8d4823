# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
``sim2online``: one command line for what users of the suite do.

    sim2online tasks                              # registered tasks and their shapes
    sim2online pretrain --task racecar_parking    # pretrain in simulation
    sim2online run --task racecar_parking         # the main job: pretrain, fine-tune via ROS 2
    sim2online ablation --task racecar_parking    # the ablation grid, several seeds
    sim2online table runs/ablation_*/trials       # merge trial files, CIs, plot
    sim2online evaluate runs/pretrain_racecar/checkpoint.pt --variant real
    sim2online bags summary runs/bags/trial       # recorded episodes

Tasks are found by name through the ``sim2online.tasks`` entry points (``rl_core.registry``);
a task name may be replaced by its robot's name when the robot registers one task.
"""

import argparse
import json
import sys
from typing import List, Optional


def cmd_tasks(args) -> int:
    """List every registered task with its observation and action shapes."""
    from rl_core import registry
    plugins = registry.load_all()
    if not plugins:
        print('no task is registered (is the workspace built and sourced?)')
        return 1
    rows = []
    for name, plugin in plugins.items():
        task = plugin.make_task()
        rows.append({'task': name, 'robot': plugin.robot,
                     'observation': task.observation_spec.describe(),
                     'action': task.action_spec.describe(),
                     'control_hz': task.control_hz, 'episode_steps': task.episode_steps,
                     'reward_terms': sorted(task.REWARD_TERMS),
                     'description': plugin.description})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        print(f"{row['task']:24s} robot {row['robot']:10s} {row['observation']:28s} "
              f"{row['action']:30s} {row['control_hz']:g} Hz, {row['episode_steps']} steps")
        print(f"{'':24s} {row['description']}; reward terms: "
              f"{', '.join(row['reward_terms'])}")
    return 0


def cmd_evaluate(args) -> int:
    """Evaluate a checkpoint's deterministic policy on a simulator variant."""
    from rl_experiments.sim_to_online import evaluate_checkpoint
    result = evaluate_checkpoint(args.checkpoint, args.variant, args.episodes, args.seed)
    print(json.dumps(result, indent=1) if args.json else
          '  '.join(f'{k} {v:.3f}' for k, v in result.items()))
    return 0


def add_experiment_args(p: argparse.ArgumentParser) -> None:
    """Add the flags shared by run and ablation."""
    p.add_argument('--task', default='racecar_parking',
                   help='registered task (or robot) name; see `sim2online tasks`')
    p.add_argument('--pretrain-dir', default=None,
                   help='pretraining folder to reuse or fill (default runs/pretrain_<robot>)')
    p.add_argument('--target-success', type=float, default=0.9,
                   help='stop pretraining early at this evaluation success')
    p.add_argument('--episodes', type=int, default=30, help='online episodes')
    p.add_argument('--out-dir', default=None, help='output folder')


def build_parser() -> argparse.ArgumentParser:
    """Build the whole command line."""
    from rl_experiments import sim_to_online
    parser = argparse.ArgumentParser(prog='sim2online', description=__doc__.split('\n')[1])
    sub = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    p = sub.add_parser('tasks', help='list registered tasks with their shapes',
                       description='List every registered task with its observation and '
                       'action shapes, rate, episode length and reward terms.')
    p.add_argument('--json', action='store_true', help='machine-readable output')
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser('pretrain', help='pretrain a policy in simulation', add_help=False)
    p.set_defaults(func=None)

    p = sub.add_parser('run', help='the main job: pretrain (or reuse), fine-tune via ROS 2',
                       description="Pretrain (or reuse), start the robot's ROS 2 graph on "
                       'its simulated "real" variant, fine-tune episode by episode, evaluate '
                       'pi0 against the fine-tuned policy.')
    add_experiment_args(p)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--learner', default='between_episodes',
                   choices=['between_episodes', 'separate'],
                   help='train in the agent between episodes (default), or in a separate '
                   'learner process while episodes run (agent.role actor + learner)')
    p.add_argument('--utd', type=float, default=None,
                   help="online updates per transition (default: the robot's parameter file)")
    p.add_argument('--set', action='append', default=[], metavar='NODE:PARAM=VALUE',
                   dest='sets', type=sim_to_online.parse_set,
                   help="override one node parameter of the robot's file (repeatable; the "
                   'value is YAML), e.g. --set rl_agent:online.alpha_end=0.5; the node '
                   'checks it at start like any parameter')
    p.set_defaults(func=sim_to_online.cmd_run)

    p = sub.add_parser('ablation', help='the ablation grid of the online phase over seeds',
                       description='The online protocol without ROS for every arm (full, '
                       'no_retention, no_warm_start, no_asymmetric, naive, fixed_alpha) and '
                       'seed; one JSON file per finished trial (a re-run skips them), the '
                       'table with 95 %% bootstrap CIs and a PNG with CI bands.')
    add_experiment_args(p)
    p.add_argument('--seeds', type=int, default=3)
    p.add_argument('--first-seed', type=int, default=0)
    p.add_argument('--utd', type=float, default=10.0)
    p.add_argument('--recipes', nargs='+', default=list(sim_to_online.RECIPES),
                   choices=list(sim_to_online.RECIPES), help='arms to run (default: all)')
    p.add_argument('--variant', default=None,
                   help="simulator variant playing the real robot (default: the robot's "
                   "'real' one; e.g. real_partial)")
    p.add_argument('--jobs', type=int, default=1,
                   help='trials in parallel (one process and one torch thread each)')
    p.add_argument('--eval-every', type=int, default=0,
                   help='evaluate every N episodes (0: at the end)')
    p.set_defaults(func=sim_to_online.cmd_ablation)

    p = sub.add_parser('table', help='merge ablation trial files and print the table')
    p.add_argument('files', nargs='+', help='trial JSON files, folders of them, or '
                   'ablation.json files')
    p.add_argument('--png', default='', help='also write the plot with CI bands here')
    p.add_argument('--markdown', default='', help='also write the markdown table here')
    p.set_defaults(func=sim_to_online.cmd_table)

    p = sub.add_parser('evaluate', help="evaluate a checkpoint on its task's simulator",
                       description="Evaluate a checkpoint's deterministic policy on its own "
                       'task (read from the checkpoint) and a simulator variant.')
    p.add_argument('checkpoint')
    p.add_argument('--variant', default=None,
                   help="simulator variant (default: the robot's 'real' variant)")
    p.add_argument('--episodes', type=int, default=100)
    p.add_argument('--seed', type=int, default=sim_to_online.EVAL_SEED)
    p.add_argument('--json', action='store_true')
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser('bags', help='list recorded bags or summarise their episodes',
                       add_help=False)
    p.set_defaults(func=None)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``sim2online``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # pretrain and bags own their flags (one per config field / their own subcommands).
    if argv and argv[0] == 'pretrain':
        from rl_experiments import pretrain
        return pretrain.main(argv[1:], prog='sim2online pretrain')
    if argv and argv[0] == 'bags':
        from rl_replay import bag_cli
        return bag_cli.main(argv[1:], prog='sim2online bags')
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
