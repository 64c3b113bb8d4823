# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Pixels through the generic experiment path: a camera task registered from outside.

``toy_pixels`` (rl_core's test fixture) sees a point only through an 8x8 image. Generic
pretraining must train SAC's conv encoder on it, store uint8 pixels in replay and in the D0
bag, and the online protocol must load that D0 with pixels and keep training.
"""

import pathlib
import sys

import numpy as np
import pytest

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / 'rl_core' / 'test' / 'fixtures' / \
    'toy_robot'


@pytest.fixture
def toy_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURE))
    yield
    sys.modules.pop('toy_robot', None)


SAC_FLAGS = ['--sac-encoder', 'conv', '--sac-encoder-channels', '8', '8',
             '--sac-encoder-feature-dim', '16', '--sac-drq-pad', '1', '--sac-actor-hidden',
             '32', '32', '--sac-critic-type', 'mlp', '--sac-critic-hidden', '64', '64',
             '--sac-actor-update-period', '1', '--sac-actor-lr', '0.001',
             '--sac-critic-lr', '0.001', '--sac-gamma', '0.9', '--sac-init-temperature', '0.1']


def test_pixel_task_pretrains_and_fine_tunes_through_the_generic_path(tmp_path, toy_on_path):
    import torch
    from rl_core.run_info import read_checkpoint_run_info
    from rl_experiments.pretrain import build_configs, evaluate, make_env, Pretrainer
    from rl_experiments.sim_to_online import online_trial
    from rl_replay.bag_io import read_bag_arrays
    torch.set_num_threads(1)
    cfg, sac_cfg, overrides = build_configs([
        '--task', 'toy_pixels', '--num-envs', '8', '--total-env-steps', '1600',
        '--learning-starts', '160', '--utd', '1.0', '--batch-size', '64',
        '--eval-every-updates', '400', '--eval-episodes', '16', '--d0-transitions', '300',
        '--out-dir', str(tmp_path)] + SAC_FLAGS)
    trainer = Pretrainer(cfg, sac_cfg, log=print, task_overrides=overrides)
    assert trainer.sac_cfg.pixel_shape == (1, 8, 8)
    before = evaluate(trainer.agent, make_env(cfg, 16, seed=5))
    summary = trainer.train()
    after = summary['history'][-1]
    print(f"return untrained {before['return_mean']:.2f} -> trained {after['return_mean']:.2f}")
    assert after['return_mean'] > before['return_mean'] + 1.0
    info = read_checkpoint_run_info(str(tmp_path / 'checkpoint.pt'))
    assert info['task'] == 'toy_pixels' and info['sac']['pixel_shape'] == [1, 8, 8]
    d0 = read_bag_arrays(tmp_path / 'd0_bag')
    assert d0['pixels'].shape == (300, 1, 8, 8) and d0['pixels'].dtype == np.uint8
    assert d0['pixels'].max() == 255  # the point is drawn, not lost on the way
    # The full recipe: warm start until 250 online transitions (13 episodes of 20 steps),
    # then UTD 0.5 x 20 steps = 10 updates on batches mixing D_online and the pixel D0.
    trial = online_trial(str(tmp_path), 'full', seed=0, episodes=14, utd=0.5, eval_every=14)
    assert [h['steps'] for h in trial['history']] == [20] * 14
    assert [h['gradient_steps'] for h in trial['history']][-2:] == [0, 10]
