# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The ablation grid's statistics, trial files, resume and table."""

import json

import numpy as np
import pytest
from rl_experiments import ablation


def test_bootstrap_ci_of_known_samples():
    mean, lo, hi = ablation.bootstrap_ci([0.5] * 10)
    assert mean == lo == hi == 0.5
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 1.0, 400)
    mean, lo, hi = ablation.bootstrap_ci(x, resamples=4000)
    assert lo < 3.0 < hi
    # the percentile interval of a mean is about +-1.96 sd / sqrt(n)
    assert (hi - lo) == pytest.approx(2 * 1.96 * x.std() / np.sqrt(x.size), rel=0.15)
    assert ablation.bootstrap_ci(x, seed=7) == ablation.bootstrap_ci(x, seed=7)
    with pytest.raises(ValueError, match='at least one value'):
        ablation.bootstrap_ci([])


def test_difference_verdicts():
    assert ablation.verdict(ablation.bootstrap_diff_ci([0.9] * 10, [0.1] * 10)).startswith(
        'reproduced')
    assert ablation.verdict(ablation.bootstrap_diff_ci([0.1] * 10, [0.9] * 10)).startswith(
        'reversed')
    noisy = ablation.bootstrap_diff_ci([0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0])
    assert ablation.verdict(noisy).startswith('not resolved')


def test_arms_change_one_stabilizer_each():
    full = ablation.ARMS['full']
    assert ablation.ARMS['no_retention']['online']['use_offline_data'] is False
    assert ablation.ARMS['no_retention']['sac'] == full['sac']
    assert ablation.ARMS['no_warm_start']['online']['warm_start_episodes'] == 0
    assert ablation.ARMS['no_asymmetric']['sac']['actor_update_period'] == 1
    assert ablation.ARMS['no_asymmetric']['online'] == full['online']
    fixed = ablation.ARMS['fixed_alpha']['online']
    assert fixed['alpha_start'] == fixed['alpha_end'] == 0.5


def row(arm, seed, successes, online=(1.0, 0.0)):
    curve = [{'episode': 5 * (i + 1), 'success_rate': s, 'return_mean': 100 * s}
             for i, s in enumerate(successes)]
    return {'recipe': arm, 'seed': seed, 'eval_curve': curve, 'final': curve[-1],
            'history': [{'episode': i + 1, 'success': s} for i, s in enumerate(online)],
            'pi0': {'success_rate': 0.3, 'return_mean': 40.0}}


def test_table_merges_trial_files_and_states_the_findings(tmp_path):
    trials = tmp_path / 'trials'
    trials.mkdir()
    for seed in range(6):
        (trials / f'full_seed{seed}.json').write_text(json.dumps(row('full', seed,
                                                                     [0.4, 0.8])))
        (trials / f'naive_seed{seed}.json').write_text(json.dumps(row('naive', seed,
                                                                      [0.2, 0.1])))
    old = tmp_path / 'ablation.json'         # an older merged file is read too
    old.write_text(json.dumps({'pi0': {'success_rate': 0.3, 'return_mean': 40.0},
                               'rows': [row('no_retention', 0, [0.5, 0.6])]}))
    pi0, rows = ablation.load_rows([str(trials), str(old)])
    assert len(rows) == 13 and pi0['success_rate'] == 0.3
    text = ablation.summary_table(pi0, rows)
    # success after 5 and 10, mean over evaluations, lowest evaluation, online episodes
    # succeeded (1 of 2)
    assert '| full | 6 | 40% [40%, 40%] | 80% [80%, 80%] | 60% [60%, 60%] | 40% [40%, 40%] ' \
        '| 50% [50%, 50%] |' in text
    assert '| naive | 6 | 20% [20%, 20%] | 10% [10%, 10%] | 15% [15%, 15%] | 10% [10%, 10%] ' \
        '| 50% [50%, 50%] |' in text
    assert '| naive | 20.0 [20.0, 20.0] | 10.0 [10.0, 10.0] |' in text     # returns
    assert 'the full recipe beats naive fine-tuning (naive, success after 10 episodes): ' \
        'reproduced' in text
    assert 'the full recipe beats naive fine-tuning (naive, mean success over evaluations): ' \
        'reproduced (full - ablated = +0.45' in text
    assert 'the full recipe beats naive fine-tuning (naive, lowest evaluation): ' \
        'reproduced (full - ablated = +0.30' in text
    assert 'the full recipe beats naive fine-tuning (naive, online episodes succeeded): ' \
        'not resolved at this sample size (full - ablated = +0.00' in text
    assert 'data retention helps' in text       # one seed: reported, whatever it says
    png = tmp_path / 'a.png'
    ablation.plot(rows, str(png), pi0=pi0)
    assert png.read_bytes()[:4] == b'\x89PNG'


def test_grid_writes_one_file_per_trial_and_resumes(tmp_path, monkeypatch):
    from rl_experiments import sim_to_online
    calls = []

    def fake_trial(pretrain_dir, recipe, seed, episodes, utd, variant=None, eval_every=0):
        calls.append((recipe, seed))
        return row(recipe, seed, [0.5])
    monkeypatch.setattr(sim_to_online, 'online_trial', fake_trial)
    pi0 = {'success_rate': 0.3, 'return_mean': 40.0}
    rows = ablation.run_grid('unused', ['full', 'naive'], [0, 1], 2, 1.0, 'real', 0,
                             str(tmp_path), pi0, log=lambda *_: None)
    assert sorted(calls) == [('full', 0), ('full', 1), ('naive', 0), ('naive', 1)]
    assert len(rows) == 4 and len(list((tmp_path / 'trials').glob('*.json'))) == 4
    calls.clear()
    (tmp_path / 'trials' / 'naive_seed1.json').unlink()   # as if killed during this trial
    rows = ablation.run_grid('unused', ['full', 'naive'], [0, 1], 2, 1.0, 'real', 0,
                             str(tmp_path), pi0, log=lambda *_: None)
    assert calls == [('naive', 1)] and len(rows) == 4
    with pytest.raises(ValueError, match='unknown arms'):
        ablation.run_grid('unused', ['bogus'], [0], 1, 1.0, None, 0, str(tmp_path), pi0)
