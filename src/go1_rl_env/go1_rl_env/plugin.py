# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The Go1's registration (entry point ``sim2online.tasks: go1_joystick``)."""

from rl_core.registry import NodeSpec, RobotPlugin

PLUGIN = RobotPlugin(
    name='go1_joystick',
    robot='go1',
    description='Unitree Go1 joystick velocity tracking (MuJoCo, mujoco.batch)',
    task='go1_rl_env.task:Go1JoystickTask',
    simulator='go1_rl_env.vector_env:Go1JoystickVectorEnv',
    bridge='go1_rl_env.sim_bridge_plugin:Go1Bridge',
    adapter='go1_rl_env.ros_adapter:Go1Adapter',
    package='go1_rl_env',
    launch_file='go1.launch.py',
    params_file='go1.yaml',
    pretrain_config='go1_pretrain.yaml',
    nodes=(
        NodeSpec('sim_bridge', 'sim_bridge_node', 'sim_bridge', only='sim'),
        NodeSpec('go1_rl_env', 'go1_driver_node', 'go1_driver'),
        NodeSpec('rl_env', 'env_node', 'rl_env'),
        NodeSpec('rl_agent', 'agent_node', 'rl_agent'),
        NodeSpec('rl_replay', 'replay_node', 'rl_replay'),
    ),
)
