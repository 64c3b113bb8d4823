# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
List recorded bags and summarise their episodes.

    python -m rl_replay.bag_cli list runs/            # bags, message counts, duration
    python -m rl_replay.bag_cli summary runs/trial_0  # per-episode steps, return, outcome
"""

import argparse
from collections import OrderedDict
import sys

from rl_replay.bag_io import (BagFormatError, iter_events, iter_messages, list_bags,
                              TRANSITION_TOPIC, TRANSITION_TYPE)

EVENT_NAMES = {0: 'started', 1: 'ended', 2: 'aborted'}


def cmd_list(paths):
    """Print one line per bag found under ``paths``."""
    from rosbags.rosbag2 import Reader
    found = False
    for root in paths:
        for bag in list_bags(root):
            found = True
            try:
                with Reader(bag) as reader:
                    counts = {c.topic: c.msgcount for c in reader.connections}
                    print(f'{bag}  {reader.duration / 1e9:8.1f} s  '
                          + '  '.join(f'{t}={n}' for t, n in sorted(counts.items())))
            except Exception as exc:  # noqa: BLE001 - report and continue
                print(f'{bag}  UNREADABLE: {exc}')
    if not found:
        print('no bags found under ' + ', '.join(paths))
    return 0


def summarize(bag):
    """Per-episode rows (episode id -> dict) of one bag."""
    episodes = OrderedDict()
    for _, msg in iter_messages(bag, TRANSITION_TOPIC, TRANSITION_TYPE):
        row = episodes.setdefault(msg.episode_id, {'steps': 0, 'return': 0.0, 'end': ''})
        row['steps'] += 1
        row['return'] += msg.reward
        if msg.terminated:
            row['end'] = 'terminated'
        elif msg.truncated:
            row['end'] = 'truncated'
    for _, event in iter_events(bag):
        row = episodes.setdefault(event.episode_id, {'steps': 0, 'return': 0.0, 'end': ''})
        if event.event != 0:
            row['end'] = f'{EVENT_NAMES.get(event.event, event.event)}:{event.reason}'
            row['success'] = event.success
    return episodes


def cmd_summary(bags):
    """Print the per-episode table of each bag."""
    for bag in bags:
        print(f'== {bag}')
        print(f"{'episode':>8} {'steps':>6} {'return':>9}  {'success':>7}  end")
        rows = summarize(bag)
        for episode_id, row in rows.items():
            success = row.get('success')
            print(f"{episode_id:>8} {row['steps']:>6} {row['return']:>9.3f}  "
                  f"{'' if success is None else str(bool(success)):>7}  {row['end']}")
        if rows:
            mean = sum(r['return'] for r in rows.values()) / len(rows)
            print(f'{len(rows)} episodes, mean return {mean:.3f}')
    return 0


def main(argv=None, prog=None) -> int:
    """Command-line entry point (``sim2online bags`` or ``python -m rl_replay.bag_cli``)."""
    parser = argparse.ArgumentParser(prog=prog, description='List and summarise sim2online '
                                     'bags.')
    sub = parser.add_subparsers(dest='command', required=True)
    sub.add_parser('list', help='list bags under folders').add_argument('paths', nargs='+')
    sub.add_parser('summary', help='per-episode summary').add_argument('bags', nargs='+')
    args = parser.parse_args(argv)
    try:
        if args.command == 'list':
            return cmd_list(args.paths)
        return cmd_summary(args.bags)
    except BagFormatError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
