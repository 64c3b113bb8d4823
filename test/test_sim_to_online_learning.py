# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Sim-to-online really works: the full recipe lifts pi0 on the Pacejka "real" car.

Pretrains on the kinematic model exactly as the main job does (the car's registered
racecar_pretrain.yaml, stop at 90 % evaluation success), then fine-tunes one simulated car
of the 'real' variant with the full recipe at the paper's UTD 10, episode by episode, and
evaluates the deterministic policy on 100 real-car episodes every 5 episodes.
Measured here (one torch thread): pi0 0 % on the real car; the best evaluation within 25
online episodes was 100 %, 99 %, 36 % and 46 % for seeds 0-3 (seed 0: 12 % after 10
episodes, 81 % after 15). The evaluation after a given episode is noisy (seed 2: 36 % at
10, 6 % at 20, 47 % at 30), so the test asserts on the best evaluation of the run.
"""

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_full_recipe_lifts_pi0_on_the_real_car(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    from rl_core import registry
    from rl_experiments import sim_to_online
    plugin = registry.load('racecar_parking')
    pretrain_dir = sim_to_online.ensure_pretrained(plugin, str(tmp_path / 'pretrain'), 0.9)
    pi0 = sim_to_online.evaluate_checkpoint(f'{pretrain_dir}/checkpoint.pt', 'real')
    trial = sim_to_online.online_trial(pretrain_dir, 'full', seed=0, episodes=25, utd=10.0,
                                       variant='real', eval_every=5, log=print,
                                       stop_at_success=0.6)
    print(f"pi0 {pi0['success_rate']:.0%} -> fine-tuned {trial['eval_curve']}")
    # The sim-to-sim gap is real: the kinematic policy overshoots on the slipping car.
    assert pi0['success_rate'] <= 0.1
    # ... and on 'real_partial' (the paper's regime) pi0 partly works (measured: 39 %)
    partial = sim_to_online.evaluate_checkpoint(f'{pretrain_dir}/checkpoint.pt',
                                                'real_partial')
    assert 0.1 <= partial['success_rate'] <= 0.7, partial
    best = max(c['success_rate'] for c in trial['eval_curve'])
    assert best >= pi0['success_rate'] + 0.25


def test_online_trial_applies_the_recipe_and_table_merges_runs(tmp_path, monkeypatch, capsys):
    import json

    from graph_harness import write_untrained_pi0
    from rl_experiments import cli, sim_to_online
    monkeypatch.chdir(ROOT)
    write_untrained_pi0(tmp_path, 'd0_bag', transitions=300)
    rows = [sim_to_online.online_trial(str(tmp_path), recipe, seed=0, episodes=3, utd=0.2,
                                       eval_every=2)
            for recipe in ('full', 'naive')]
    for row in rows:
        assert [c['episode'] for c in row['eval_curve']] == [2, 3]
        assert len(row['history']) == 3
        assert row['final'] == row['eval_curve'][-1]
        assert row['variant'] == 'real' and row['task'] == 'racecar_parking'
        assert all(h['reason'] in ('terminated', 'time_limit') for h in row['history'])
        assert all('reward/distance_progress' in h for h in row['history'])
    full, naive = rows
    # The naive recipe has no warm start: it trains right after its first episode; the full
    # one waits for N* = 1 episode and 250 online transitions.
    first = naive['history'][0]['steps']
    assert naive['history'][1]['gradient_steps'] == round(0.2 * first) > 0
    if full['history'][0]['steps'] < 250:
        assert full['history'][1]['gradient_steps'] == 0
    (tmp_path / 'a.json').write_text(json.dumps({'pi0': full['final'], 'rows': [full]}))
    (tmp_path / 'b.json').write_text(json.dumps({'pi0': full['final'], 'rows': [naive]}))
    capsys.readouterr()
    assert cli.main(['table', str(tmp_path / 'a.json'), str(tmp_path / 'b.json')]) == 0
    table = capsys.readouterr().out
    assert '| full | 1 |' in table and '| naive | 1 |' in table
    assert 'success after 2' in table and 'success after 3' in table
