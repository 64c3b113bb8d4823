# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Policy weights between a learner and its actors: plain tensors, versions, refusals."""

import math

import pytest
from rl_agent.sac import SAC, SACConfig
import torch

policy_weights = pytest.importorskip('rl_agent.policy_weights')  # needs rl_interfaces built

TASK = 'racecar_parking'


def agents(**kw):
    base = {'obs_dim': 5, 'action_dim': 2, 'actor_hidden': (16, 16), 'critic_width': 32,
            'critic_blocks': 1}
    base.update(kw)
    return SAC(SACConfig(seed=1, **base)), SAC(SACConfig(seed=2, **base))


def act(agent, obs, pixels=None):
    kw = {} if pixels is None else {'pixels': pixels}
    return agent.act(obs, deterministic=True, **kw)


@pytest.mark.parametrize('pixels', [False, True])
def test_weights_travel_as_a_message_and_the_actor_then_acts_like_the_learner(pixels):
    kw = {'pixel_shape': (1, 16, 16), 'encoder': 'conv', 'encoder_channels': (4, 4),
          'encoder_feature_dim': 8} if pixels else {}
    learner, actor = agents(**kw)
    learner.observe(torch.randn(64, 5) * 3 + 1)  # normaliser statistics travel too
    obs = torch.randn(4, 5)
    px = torch.randint(0, 255, (4, 1, 16, 16), dtype=torch.uint8) if pixels else None
    assert not torch.allclose(act(learner, obs, px), act(actor, obs, px))
    msg = policy_weights.to_message(learner.policy_tensors(), 7, TASK)
    assert msg.version == 7 and msg.task == TASK
    names = {t.name for t in msg.tensors}
    assert any(n.startswith('actor.') for n in names)
    assert any(n.startswith('normalizer.') for n in names)
    assert any(n.startswith('encoder.') for n in names) == pixels
    assert not any(n.startswith('critic') for n in names)  # the actor needs no critic
    actor.load_policy_tensors(policy_weights.from_message(msg, TASK, current_version=3))
    assert torch.allclose(act(learner, obs, px), act(actor, obs, px), atol=1e-6)


def test_stale_foreign_and_malformed_weights_are_refused_and_change_nothing():
    learner, actor = agents()
    obs = torch.randn(3, 5)
    before = act(actor, obs)
    msg = policy_weights.to_message(learner.policy_tensors(), 5, TASK)
    with pytest.raises(ValueError, match='stale policy weights: version 5 is not newer than '
                       'version 5'):
        policy_weights.from_message(msg, TASK, current_version=5)
    with pytest.raises(ValueError, match="for task 'racecar_parking'; this actor runs 'go1'"):
        policy_weights.from_message(msg, 'go1', current_version=0)
    msg.tensors[0].shape = [3, 3]
    with pytest.raises(ValueError, match=f'{msg.tensors[0].name} has .* values for shape'):
        policy_weights.from_message(msg, TASK, current_version=0)
    # Another network size: names match, shapes do not.
    other, _ = agents(actor_hidden=(8, 8))
    tensors = other.policy_tensors()
    with pytest.raises(ValueError, match=r'has shape \(8, 5\); this agent has \(16, 5\)'):
        actor.load_policy_tensors(tensors)
    tensors = learner.policy_tensors()
    del tensors['normalizer.mean']
    with pytest.raises(ValueError, match=r"missing \['normalizer.mean'\]"):
        actor.load_policy_tensors(tensors)
    tensors = learner.policy_tensors()
    name = next(n for n in tensors if n.startswith('actor.'))
    tensors[name].view(-1)[0] = math.nan
    with pytest.raises(ValueError, match=f'{name} holds NaN/inf'):
        actor.load_policy_tensors(tensors)
    assert torch.equal(before, act(actor, obs))  # nothing was half-loaded
