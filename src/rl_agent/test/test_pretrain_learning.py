# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
CI-sized pretraining really learns: parking success rises far above the untrained policy.

The README's CPU config, stopped at 50 % success (a few minutes); the full run reaches 100 %.
"""

import json
import pathlib

import pytest
from rl_core import config_spec
from rl_agent.pretrain import build_configs, evaluate, make_env, Pretrainer
from rl_agent.sac import SAC

CONFIG = pathlib.Path(__file__).resolve().parents[3] / 'config' / 'racecar_pretrain.yaml'


@pytest.mark.slow
def test_pretraining_raises_parking_success(tmp_path):
    # The README config (32 cars, BRO W=256 K=1, UTD 0.25) stopped as soon as half of the
    # evaluation episodes park; measured here: 18-25 % at 6k updates, 73-79 % at 7.5-8k.
    cfg, sac_cfg = build_configs([
        '--config', str(CONFIG), '--eval-every-updates', '1000', '--eval-episodes', '50',
        '--max-wall-clock-s', '900', '--target-success', '0.5', '--d0-transitions', '2000',
        '--out-dir', str(tmp_path)])
    untrained = SAC(config_spec.replace(sac_cfg, obs_dim=45, action_dim=2))
    baseline = evaluate(untrained, make_env(cfg, 50, seed=99))
    summary = Pretrainer(cfg, sac_cfg, log=print).train()
    print(json.dumps({k: v for k, v in summary.items() if k != 'history'}))
    assert baseline['success_rate'] <= 0.05
    assert summary['best_success_rate'] >= 0.4
    assert summary['stop_reason'] == 'target_success'
    assert (tmp_path / 'checkpoint.pt').is_file()
    assert (tmp_path / 'learning_curve.png').is_file()
    assert (tmp_path / 'd0_bag' / 'metadata.yaml').is_file()
    assert SAC.checkpoint_extra(str(tmp_path / 'checkpoint.pt'))['env']['goal_radius'] == 0.35
