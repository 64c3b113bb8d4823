# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""SAC core: shapes, stabilizers (asymmetric updates), checkpoints, config validation."""

import collections
import math
import os

import pytest
from rl_agent.sac import SAC, SACConfig
from rl_core import config_spec
import torch

Batch = collections.namedtuple('Batch', 'obs action reward next_obs terminated')


def small_config(**kw):
    base = {'obs_dim': 6, 'action_dim': 2, 'actor_hidden': (16, 16), 'critic_width': 32,
            'critic_blocks': 1, 'actor_update_period': 3, 'seed': 3}
    base.update(kw)
    return SACConfig(**base)


def make_batch(n=32, obs_dim=6, action_dim=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return Batch(torch.randn(n, obs_dim, generator=g),
                 torch.rand(n, action_dim, generator=g) * 2 - 1,
                 torch.randn(n, generator=g),
                 torch.randn(n, obs_dim, generator=g),
                 (torch.rand(n, generator=g) < 0.1).float())


def flat(module):
    return torch.cat([p.detach().flatten().clone() for p in module.parameters()])


@pytest.mark.parametrize('critic_type', ['bro', 'mlp'])
def test_shapes_and_action_bounds(critic_type):
    agent = SAC(small_config(critic_type=critic_type, num_critics=3))
    batch = make_batch()
    q = agent.critic(batch.obs, batch.action)
    assert q.shape == (3, 32)
    action = agent.act(batch.obs)
    assert action.shape == (32, 2)
    assert action.abs().max() <= 1.0
    assert agent.act(batch.obs[0], deterministic=True).shape == (2,)
    metrics = agent.update(batch)
    assert set(metrics) >= {'critic_loss', 'q_mean'}
    assert all(torch.isfinite(v) for v in metrics.values())


def test_log_prob_matches_change_of_variables():
    agent = SAC(small_config())
    obs = torch.randn(4000, 6)
    obs = obs[:1].expand(4000, 6)
    torch.manual_seed(0)
    action, log_prob = agent.actor.sample(obs)
    mean, log_std = agent.actor(obs[:1])
    base = torch.distributions.Normal(mean, log_std.exp())
    pre = torch.atanh(action.clamp(-0.999999, 0.999999))
    expected = (base.log_prob(pre) - torch.log(1 - action.pow(2) + 1e-12)).sum(-1)
    assert torch.allclose(log_prob, expected, atol=1e-3)


def test_actor_changes_only_every_mth_critic_update():
    agent = SAC(small_config(actor_update_period=4))
    batch = make_batch()
    actor_before = flat(agent.actor)
    for i in range(1, 13):
        critic_before = flat(agent.critic)
        agent.update(batch)
        actor_now = flat(agent.actor)
        assert not torch.equal(critic_before, flat(agent.critic)), 'critic must update'
        changed = not torch.equal(actor_before, actor_now)
        assert changed == (i % 4 == 0), f'update {i}: actor changed={changed}'
        actor_before = actor_now
    assert agent.critic_updates == 12 and agent.actor_updates == 3


def test_actor_step_leaves_critic_gradients_untouched():
    agent = SAC(small_config(actor_update_period=1))
    batch = make_batch()
    agent.update(batch)
    agent.critic_opt.zero_grad(set_to_none=True)
    agent._actor_step(batch.obs)
    assert all(p.grad is None for p in agent.critic.parameters())


def test_target_networks_polyak_average():
    agent = SAC(small_config(tau=0.25))
    target_before = flat(agent.critic_target)
    agent.update(make_batch())
    online = flat(agent.critic)
    assert torch.allclose(flat(agent.critic_target), 0.75 * target_before + 0.25 * online,
                          atol=1e-6)


def test_terminated_stops_bootstrap_truncation_does_not():
    agent = SAC(small_config(gamma=0.9, reward_scale=2.0, init_temperature=0.5,
                             normalize_obs=False))
    batch = make_batch(n=4)._replace(terminated=torch.tensor([1.0, 0.0, 1.0, 0.0]))
    # A fixed next action and log-probability make the TD target computable by hand.
    log_prob = torch.tensor([0.1, -0.2, 0.3, 0.4])
    agent.actor.sample = lambda obs, gen=None: (torch.tanh(obs[:, :2]), log_prob)
    with torch.no_grad():
        next_q = agent.critic_target(batch.next_obs, torch.tanh(batch.next_obs[:, :2]))
        q = agent.critic(batch.obs, batch.action)
    target = 2.0 * batch.reward + 0.9 * (1 - batch.terminated) * (next_q.mean(0) - 0.5 * log_prob)
    expected = 0.5 * (q - target).pow(2).mean(1).sum()
    loss = agent._critic_step(*batch)['critic_loss']
    assert torch.allclose(loss, expected, atol=1e-5)


def test_temperature_moves_towards_target_entropy():
    agent = SAC(small_config(actor_update_period=1, target_entropy=-50.0, alpha_lr=0.05))
    batch = make_batch()
    start = float(agent.alpha)
    for _ in range(10):
        agent.update(batch)
    assert float(agent.alpha) < start  # entropy far above target: alpha must shrink


def test_actor_init_std_sets_the_initial_spread_and_1_keeps_the_default_init():
    obs = torch.randn(256, 6)
    default = SAC(small_config())
    assert torch.equal(flat(SAC(small_config(actor_init_std=1.0)).actor), flat(default.actor))
    narrow = SAC(small_config(actor_init_std=0.1))
    _, log_std = narrow.actor(obs)
    _, log_std_default = default.actor(obs)
    assert torch.allclose(log_std, log_std_default + math.log(0.1), atol=1e-6)
    # only the spread moves: the same mean action, less entropy
    assert torch.equal(narrow.act(obs, deterministic=True), default.act(obs, deterministic=True))
    spread = narrow.act(obs) - narrow.act(obs, deterministic=True)
    assert float(spread.abs().mean()) < 0.2 * float(
        (default.act(obs) - default.act(obs, deterministic=True)).abs().mean())
    with pytest.raises(ValueError, match='actor_init_std'):
        small_config(actor_init_std=0.0)


def test_normalizer_statistics_match_numpy():
    agent = SAC(small_config())
    data = torch.randn(1000, 6) * 3 + 5
    for chunk in data.split(137):
        agent.observe(chunk)
    assert torch.allclose(agent.normalizer.mean.float(), data.mean(0), atol=1e-4)
    assert torch.allclose(agent.normalizer.var.float(), data.var(0, unbiased=False), atol=1e-3)


def test_checkpoint_round_trip_resumes_identical_next_update(tmp_path):
    agent = SAC(small_config(actor_update_period=2))
    agent.observe(torch.randn(100, 6))
    for i in range(5):
        agent.update(make_batch(seed=i))
    path = os.path.join(tmp_path, 'agent.pt')
    agent.save(path, extra={'env': {'name': 'test'}})
    resumed = SAC.load(path)
    assert SAC.checkpoint_extra(path) == {'env': {'name': 'test'}}
    batch = make_batch(seed=99)
    m1, m2 = agent.update(batch), resumed.update(batch)
    assert torch.equal(flat(agent.critic), flat(resumed.critic))
    assert torch.equal(flat(agent.actor), flat(resumed.actor))
    assert torch.equal(flat(agent.critic_target), flat(resumed.critic_target))
    assert torch.equal(m1['critic_loss'], m2['critic_loss'])
    assert torch.equal(agent.act(batch.obs), resumed.act(batch.obs))
    assert resumed.critic_updates == agent.critic_updates


def test_checkpoint_is_written_atomically_and_refuses_garbage(tmp_path):
    path = os.path.join(tmp_path, 'agent.pt')
    with open(path, 'wb') as f:
        f.write(b'not a checkpoint')
    with pytest.raises(ValueError, match='unreadable or not a SAC checkpoint'):
        SAC.load(path)
    SAC(small_config()).save(path)
    assert [f for f in os.listdir(tmp_path) if f.startswith('.tmp_')] == []
    SAC.load(path)
    with pytest.raises(FileNotFoundError):
        SAC.load(os.path.join(tmp_path, 'missing.pt'))


@pytest.mark.parametrize('field,value', [('gamma', 1.5), ('tau', -0.1), ('actor_lr', float('nan')),
                                         ('actor_update_period', 0), ('critic_type', 'cnn')])
def test_invalid_config_refused_with_range(field, value):
    with pytest.raises(ValueError, match=field) as info:
        small_config(**{field: value})
    assert 'must be' in str(info.value)


def test_live_hyperparameter_change_applies_and_refuses_structure():
    agent = SAC(small_config())
    agent.set_hyperparameters(actor_lr=1e-3, actor_update_period=7)
    assert agent.actor_opt.param_groups[0]['lr'] == 1e-3
    assert agent.config.actor_update_period == 7
    with pytest.raises(ValueError, match='network shapes'):
        agent.set_hyperparameters(critic_width=64)
    with pytest.raises(ValueError, match='out of range'):
        agent.set_hyperparameters(critic_lr=5.0)


def test_config_spec_dict_round_trip_refuses_unknown_keys():
    cfg = small_config()
    assert config_spec.from_dict(SACConfig, config_spec.to_dict(cfg)) == cfg
    with pytest.raises(ValueError, match='no field'):
        config_spec.from_dict(SACConfig, {'gama': 0.9})


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_graph_update_matches_eager():
    cfg = small_config(actor_update_period=2)
    eager = SAC(cfg, 'cuda')
    graphed = SAC(config_spec.replace(cfg, cuda_graph=True), 'cuda')
    graphed.load_state_dict(eager.state_dict())
    # Graph mode draws policy noise from the default CUDA generator; make eager do the same
    # and reseed it before each update so both see identical noise.
    eager._noise_generator = lambda: None
    for i in range(6):
        batch = Batch(*[t.cuda() for t in make_batch(seed=i)])
        torch.cuda.manual_seed(i)
        e = eager.update(batch)
        torch.cuda.manual_seed(i)
        g = graphed.update(batch)
        assert torch.allclose(e['critic_loss'], g['critic_loss'], rtol=1e-4, atol=1e-5)
    assert torch.allclose(flat(eager.actor), flat(graphed.actor), atol=1e-5)
    assert torch.allclose(flat(eager.critic), flat(graphed.critic), atol=1e-5)


def test_json_history_is_replaced_whole_or_not_at_all(tmp_path):
    # The agent's history JSON is read while the agent runs (plots, tests, operators): a
    # writer that fails half-way leaves the previous file as it was and no temporary file.
    import json
    from rl_agent.sac import save_atomic, save_json_atomic
    path = tmp_path / 'agent_history.json'
    save_json_atomic([{'episode': 1}], str(path))
    assert json.loads(path.read_text()) == [{'episode': 1}]

    def half_then_fail(obj, f):
        f.write(b'[{"episode": ')
        raise OSError('disk full')
    with pytest.raises(OSError, match='disk full'):
        save_atomic([{'episode': 2}], str(path), write=half_then_fail, suffix='.json')
    assert json.loads(path.read_text()) == [{'episode': 1}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ['agent_history.json']
    save_json_atomic([{'episode': 1}, {'episode': 2}], str(path))
    assert len(json.loads(path.read_text())) == 2
