# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The vision learner improves on a reduced Panda variant (CI-sized learning test).

Reduced variant: the reach part of the pick task only (potential ``reach``; lift and success
scaled to 0), 20-step episodes, 32x32 images, a small conv encoder (8/16 channels) and
networks, the same code path as the full pretraining (generic ``Pretrainer``, the Panda's
``mujoco.batch`` simulator with rendering, DrQ, critic-trained encoder, uint8 pixels in
replay). The cube's y position is random and visible only in the image.
"""

import pytest

TASK = {'episode_steps': 20, 'image_size': 32,
        'reward_scales': {'reach': 1.0, 'lift': 0.0, 'no_floor_collision': 0.0,
                          'success': 0.0, 'clip_to_zero': 1.0}}
SAC = {'actor_hidden': [64, 64], 'critic_type': 'mlp', 'critic_hidden': [128, 128],
       'num_critics': 2, 'gamma': 0.9, 'tau': 0.01, 'actor_lr': 0.001, 'critic_lr': 0.001,
       'alpha_lr': 0.001, 'init_temperature': 0.1, 'target_entropy': -3.0,
       'actor_update_period': 1, 'reward_scale': 10.0, 'normalize_obs': True,
       'encoder': 'conv', 'encoder_channels': [8, 16], 'encoder_feature_dim': 32,
       'drq_pad': 2}


@pytest.mark.slow
def test_vision_sac_learns_to_reach_the_cube_it_sees(tmp_path):
    import torch
    import yaml
    from rl_experiments.pretrain import build_configs, evaluate, make_env, Pretrainer
    torch.manual_seed(0)
    torch.set_num_threads(2)
    config = tmp_path / 'reduced.yaml'
    config.write_text(yaml.safe_dump({
        'pretrain': {'task': 'panda_pick', 'variant': 'sim', 'randomize': True,
                     'num_envs': 8, 'total_env_steps': 8000, 'learning_starts': 400,
                     'utd': 0.5, 'batch_size': 64, 'buffer_capacity': 20000,
                     'eval_every_updates': 1000, 'eval_episodes': 16, 'd0_transitions': 200,
                     'out_dir': str(tmp_path / 'out'), 'device': 'cpu', 'seed': 0},
        'sac': SAC, 'task_config': TASK}))
    cfg, sac_cfg, overrides = build_configs(['--config', str(config)])
    trainer = Pretrainer(cfg, sac_cfg, log=print, task_overrides=overrides)
    assert trainer.sac_cfg.pixel_shape == (1, 32, 32)
    before = evaluate(trainer.agent, make_env(cfg, 16, seed=7, task=trainer.task))
    summary = trainer.train()
    after = evaluate(trainer.agent, make_env(cfg, 16, seed=7, task=trainer.task))
    print(f"reach return untrained {before['return_mean']:.3f} -> trained "
          f"{after['return_mean']:.3f}; tip-cube distance "
          f"{before['tip_cube_distance_median']:.3f} -> "
          f"{after['tip_cube_distance_median']:.3f}; "
          f"{summary['wall_clock_s']:.0f} s")
    # measured (seed 0): 0.006 -> 0.226 and 0.155 -> 0.084 m after 6000 steps (57 s)
    assert after['return_mean'] > before['return_mean'] + 0.12
    assert after['tip_cube_distance_median'] < before['tip_cube_distance_median'] - 0.03
