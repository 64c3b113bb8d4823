# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
CI-sized pretraining really learns: parking success rises far above the untrained policy.

A small critic and a few minutes of CPU; the full run (README) reaches >= 80 %.
"""

import json

import pytest
from rl_agent import config_spec
from rl_agent.pretrain import build_configs, evaluate, make_env, Pretrainer
from rl_agent.sac import SAC


@pytest.mark.slow
def test_pretraining_raises_parking_success(tmp_path):
    cfg, sac_cfg = build_configs([
        '--num-envs', '16', '--learning-starts', '2000', '--utd', '0.25',
        '--batch-size', '128', '--eval-every-updates', '1000', '--eval-episodes', '50',
        '--max-wall-clock-s', '600', '--total-env-steps', '60000', '--target-success', '0.6',
        '--d0-transitions', '2000', '--out-dir', str(tmp_path), '--seed', '1',
        '--sac-critic-width', '128', '--sac-critic-blocks', '1', '--sac-actor-lr', '0.0003',
        '--sac-actor-update-period', '1', '--sac-init-temperature', '0.02'])
    untrained = SAC(config_spec.replace(sac_cfg, obs_dim=45, action_dim=2))
    baseline = evaluate(untrained, make_env(cfg, 50, seed=99))
    summary = Pretrainer(cfg, sac_cfg, log=print).train()
    print(json.dumps({k: v for k, v in summary.items() if k != 'history'}))
    assert baseline['success_rate'] <= 0.05
    assert summary['best_success_rate'] >= 0.4
    assert (tmp_path / 'checkpoint.pt').is_file()
    assert (tmp_path / 'learning_curve.png').is_file()
    assert (tmp_path / 'd0_bag' / 'metadata.yaml').is_file()
    assert SAC.checkpoint_extra(str(tmp_path / 'checkpoint.pt'))['env']['goal_radius'] == 0.35
