# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Go1's registration (entry point ``sim2online.tasks: go1_joystick``).

Registered so far: the task and the batched MuJoCo simulator (pretraining, evaluation,
the in-process online trials of ``sim2online ablation``). The SDK-level sim bridge plug-in,
the hardware adapter and the driver node are not written yet, so the registration names
no bridge, adapter or ROS graph (``sim2online run`` refuses the task with that message).
"""

from rl_core.registry import RobotPlugin

PLUGIN = RobotPlugin(
    name='go1_joystick',
    robot='go1',
    description='Unitree Go1 joystick velocity tracking (MuJoCo, mujoco.batch)',
    task='go1_rl_env.task:Go1JoystickTask',
    simulator='go1_rl_env.vector_env:Go1JoystickVectorEnv',
    package='go1_rl_env',
    pretrain_config='go1_pretrain.yaml',
)
