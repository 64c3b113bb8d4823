# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
CI-sized pretraining really learns: parking success rises far above the untrained policy.

The car's registered CPU config, stopped at 50 % success (a few minutes); the full run
reaches 100 %. Pretraining is generic: the task, its simulator and metrics come from the
registry by name.
"""

import json

import pytest
from rl_agent.sac import SAC
from rl_core import config_spec
from rl_core.run_info import read_checkpoint_run_info
from rl_experiments.pretrain import build_configs, evaluate, make_env, Pretrainer


@pytest.mark.slow
def test_pretraining_raises_parking_success(tmp_path):
    # The README config (32 cars, BRO W=256 K=1, UTD 0.25) stopped as soon as half of the
    # evaluation episodes park; measured here: 18-25 % at 6k updates, 73-79 % at 7.5-8k.
    cfg, sac_cfg, task_overrides = build_configs([
        '--task', 'racecar_parking', '--eval-every-updates', '1000', '--eval-episodes', '50',
        '--max-wall-clock-s', '900', '--target-success', '0.5', '--d0-transitions', '2000',
        '--out-dir', str(tmp_path)])
    untrained = SAC(config_spec.replace(sac_cfg, obs_dim=45, action_dim=2))
    baseline = evaluate(untrained, make_env(cfg, 50, seed=99))
    trainer = Pretrainer(cfg, sac_cfg, log=print, task_overrides=task_overrides)
    summary = trainer.train()
    print(json.dumps({k: v for k, v in summary.items() if k != 'history'}))
    assert baseline['success_rate'] <= 0.05
    assert summary['best_success_rate'] >= 0.4
    assert summary['stop_reason'] == 'target_success'
    assert (tmp_path / 'checkpoint.pt').is_file()
    assert (tmp_path / 'learning_curve.png').is_file()
    assert (tmp_path / 'd0_bag' / 'metadata.yaml').is_file()
    info = read_checkpoint_run_info(str(tmp_path / 'checkpoint.pt'))
    assert info['task'] == 'racecar_parking'
    assert info['task_config']['goal_radius'] == 0.35
    # Per-term returns are evaluated and logged with every evaluation.
    last = summary['history'][-1]
    assert {'reward/distance_progress', 'reward/goal_bonus', 'reward/action_magnitude',
            'final_distance_median'} <= set(last)


def test_unknown_task_and_bad_config_are_refused_before_anything_is_written(tmp_path, capsys):
    from rl_experiments import pretrain
    assert pretrain.main(['--task', 'moon_rover', '--out-dir', str(tmp_path / 'a')]) == 2
    assert "unknown task 'moon_rover'" in capsys.readouterr().err
    assert pretrain.main(['--task', 'racecar_parking', '--num-envs', '0',
                          '--out-dir', str(tmp_path / 'b')]) == 2
    assert 'num_envs=0 is out of range' in capsys.readouterr().err
    assert not (tmp_path / 'a').exists() and not (tmp_path / 'b').exists()
