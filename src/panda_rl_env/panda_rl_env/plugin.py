# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Panda's registration (entry point ``sim2online.tasks: panda_pick``).

Registered so far: the task, the batched simulator and the pretraining config. The
franka_ros2 / RealSense drivers, the hardware adapter, the sim bridge plug-in and the launch
file are not written yet (see the README's Panda section), so no node graph is registered.
"""

from rl_core.registry import RobotPlugin

PLUGIN = RobotPlugin(
    name='panda_pick',
    robot='panda',
    description='Franka Emika Panda: pick a 5 cm ArUco cube from 64x64 camera images '
                '(MuJoCo, mujoco.batch, Cartesian impedance)',
    task='panda_rl_env.task:PandaPickTask',
    simulator='panda_rl_env.vector_env:PandaPickVectorEnv',
    package='panda_rl_env',
    pretrain_config='panda_pretrain.yaml',
)
