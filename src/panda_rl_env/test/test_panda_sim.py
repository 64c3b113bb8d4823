# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The simulated Panda: home pose, impedance, gripper, a scripted pick, variants, safety."""

import mujoco
import numpy as np
from panda_rl_env import model
from panda_rl_env.task import PandaPickConfig, PandaPickTask
from panda_rl_env.vector_env import PandaPickVectorEnv, PandaWorld, RANDOMIZATION, VARIANTS
import pytest
import torch


def test_home_pose_puts_the_tip_at_the_published_home_pointing_down():
    m = model.load()
    d = mujoco.MjData(m)
    ids = model.ids(m)
    mujoco.mj_resetDataKeyframe(m, d, ids['home'])
    mujoco.mj_forward(m, d)
    assert d.site_xpos[ids['tcp']] == pytest.approx(model.HOME_TIP, abs=1e-4)
    # the tool z axis points down, the fingers close along the world y axis
    z_axis = d.site_xmat[ids['tcp']].reshape(3, 3)[:, 2]
    y_axis = d.site_xmat[ids['tcp']].reshape(3, 3)[:, 1]
    assert z_axis == pytest.approx([0, 0, -1], abs=1e-4)
    assert abs(y_axis[1]) == pytest.approx(1.0, abs=1e-4)
    # gravity compensated and at equilibrium: it stays there
    mujoco.mj_step(m, d, nstep=500)
    assert d.site_xpos[ids['tcp']] == pytest.approx(model.HOME_TIP, abs=1e-3)


def test_impedance_pulls_the_tip_to_the_equilibrium_like_a_spring():
    world = PandaWorld(2, 'nominal')
    world.reset(np.arange(2), np.array([[0.661, 0.2], [0.661, 0.2]]), np.zeros(2))
    target = np.array([[0.661, -0.03, 0.15], [0.661, -0.05, 0.179]])
    world.command(target, np.array([False, False]))
    world.step(250)  # 0.5 s
    tip = world.tip()
    assert tip[0] == pytest.approx(target[0], abs=0.004)
    assert tip[1] == pytest.approx(target[1], abs=0.001)
    # a softer robot lags more behind a moving equilibrium
    lag = {}
    for scale in (1.0, 0.5):
        world = PandaWorld(1, dict(VARIANTS['nominal'], stiffness_scale=scale))
        world.reset(np.arange(1), np.array([[0.661, 0.2]]), np.zeros(1))
        for k in range(10):
            world.command(np.array([[0.661, -0.05 + 0.005 * (k + 1), 0.179]]),
                          np.array([False]))
            world.step(25)
        lag[scale] = -0.05 + 0.05 - world.tip()[0, 1] + 0.0
    assert lag[0.5] < lag[1.0] < 0.0 or lag[0.5] > lag[1.0] > 0.0


def scripted(env):
    """Align in y above the cube, descend, grasp, lift (uses the simulator's truth)."""
    m = env.measurement
    tip, cube = m.field('tip'), m.field('cube')
    closed = m.field('gripper_closed')[:, 0] > 0.5
    a = torch.zeros(env.num_envs, 3)
    dy = cube[:, 1] - tip[:, 1]
    aligned = dy.abs() < 0.008
    a[:, 0] = (dy / 0.015).clamp(-1, 1)  # gentle: the tip lags the equilibrium
    a[:, 1] = torch.where(aligned, ((cube[:, 2] - tip[:, 2]) / 0.005).clamp(-1, 1),
                          ((cube[:, 2] + 0.04 - tip[:, 2]) / 0.005).clamp(-1, 1))
    at_cube = aligned & ((tip[:, 2] - cube[:, 2]).abs() < 0.008)
    a[:, 2] = torch.where(at_cube | closed, 1.0, -1.0)
    lifting = closed & (m.field('fingers').mean(1) < 0.03)
    a[:, 0] = torch.where(lifting, 0.0, a[:, 0])
    a[:, 1] = torch.where(lifting, 1.0, a[:, 1])
    return a


@pytest.mark.parametrize('variant', ['nominal', 'sim'])
def test_a_scripted_pick_succeeds_within_the_80_step_episode(variant):
    env = PandaPickVectorEnv(num_envs=4, variant=variant, seed=3)
    env.reset(seed=3)
    ended = torch.zeros(4, dtype=torch.bool)
    returns = torch.zeros(4)
    for _ in range(env.task.episode_steps):
        _, reward, terminated, truncated, info = env.step(scripted(env))
        assert (reward >= 0).all()
        new = info['episode_done'] & ~ended
        # the pick ends the step the cube is up: a terminal state that counts as success
        assert terminated[new].all() and info['success'][new].all() and \
            not truncated[new].any(), (variant, info['metrics'])
        assert (info['metrics']['cube_lift'][new] >= env.task.config.lift_height).all()
        returns[new] = info['episode_return'][new]
        ended |= new
        if ended.all():
            break
    print(variant, 'returns', returns.tolist())
    assert ended.all(), f'{int((~ended).sum())} of 4 scenes did not pick the cube'


def test_the_grasp_holds_the_cube_up_until_the_time_limit():
    """With ``end_on_success`` off, the lifted cube stays between the fingers to the end."""
    task = PandaPickTask(PandaPickConfig(end_on_success=False))
    env = PandaPickVectorEnv(task, num_envs=4, variant='sim', seed=3)
    env.reset(seed=3)
    for _ in range(env.task.episode_steps):
        _, reward, terminated, _, info = env.step(scripted(env))
        assert not terminated.any()
        assert (reward >= 0).all()
    assert info['episode_done'].all()
    assert info['success'].all(), info['metrics']
    # the gripper holds the 5 cm cube: each finger about half the cube away from the centre
    assert (info['metrics']['cube_lift'] >= env.task.config.lift_height).all()


def test_pushing_the_tip_away_ends_the_episode_at_the_safety_limit():
    env = PandaPickVectorEnv(num_envs=1, variant='nominal', seed=0)
    env.reset()
    for k in range(120):
        _, _, terminated, truncated, info = env.step(torch.tensor([[1.0, 0.0, -1.0]]))
        if terminated[0]:
            break
    assert terminated[0] and not truncated[0]
    assert env.task.termination_reason(env.task.start_measurements(1)) == 'terminated'
    # the workspace clip is at y = 0.32, 0.37 m from home: the 0.3 m limit comes first
    assert 0.3 * 0.8 / 0.005 < k < 0.32 * 1.2 / 0.005


def test_variants_set_the_physics_of_each_scene():
    world = PandaWorld(8, 'sim', seed=1)
    world.apply_variant(np.arange(8))
    cube = world.ids['cube_body']
    masses = world.body_mass[:, cube]
    assert len(set(np.round(masses, 6))) == 8
    assert (masses >= RANDOMIZATION['cube_mass'][0]).all()
    assert (masses <= RANDOMIZATION['cube_mass'][1]).all()
    kp = world.gainprm[:, 0, 0]
    assert len(set(np.round(kp, 3))) == 8
    assert set(world.delay.tolist()) <= {0, 1}
    real = PandaWorld(2, 'real')
    real.apply_variant(np.arange(2))
    assert real.body_mass[:, cube] == pytest.approx([0.18, 0.18])
    assert real.geom_friction[:, real.ids['cube_geom'], 0] == pytest.approx([0.55, 0.55])
    assert real.gainprm[:, 0, 0] == pytest.approx(0.5 * model.STIFFNESS[0])
    assert real.delay.tolist() == [1, 1]
    with pytest.raises(ValueError, match='unknown Panda variant'):
        PandaWorld(1, 'mars')


def test_the_hand_closes_on_the_cube_at_its_speed_and_opens_again_at_once():
    world = PandaWorld(1, 'nominal')
    world.reset(np.arange(1), np.array([[0.661, -0.05]]), np.zeros(1))
    target = np.array([[0.661, -0.05, model.CUBE_HALF]])
    for _ in range(30):   # down to the cube, open
        world.command(target, np.array([False]), dt=0.05)
        world.step(25)
    widths = []
    for _ in range(20):   # grasp for 1 s: the fingers stop at the 5 cm cube
        world.command(target, np.array([True]), dt=0.05)
        world.step(25)
        widths.append(world.fingers()[0].sum())
    # 0.1 m/s of width: ~0.2 s from 0.08 to 0.05 m, then held at the cube
    assert widths[1] > 0.06 and abs(widths[-1] - 0.05) < 0.004
    world.command(target, np.array([False]), dt=0.05)
    world.step(25)
    opened = world.fingers()[0].sum()
    assert opened > widths[-1] + 0.002   # opening starts at once, not after a wind-down
