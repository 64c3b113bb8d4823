# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The race car's registration (entry point ``sim2online.tasks: racecar_parking``)."""

from rl_core.registry import NodeSpec, RobotPlugin

PLUGIN = RobotPlugin(
    name='racecar_parking',
    robot='racecar',
    description='RC race car parking at a goal (mocap pose, bicycle dynamics)',
    task='racecar_rl_env.task:ParkingTask',
    simulator='racecar_rl_env.vector_env:RacecarParkingVectorEnv',
    bridge='racecar_rl_env.sim_bridge_plugin:RacecarBridge',
    adapter='racecar_rl_env.ros_adapter:RacecarAdapter',
    package='racecar_rl_env',
    launch_file='racecar.launch.py',
    params_file='racecar.yaml',
    pretrain_config='racecar_pretrain.yaml',
    nodes=(
        NodeSpec('sim_bridge', 'sim_bridge_node', 'sim_bridge', only='sim'),
        NodeSpec('racecar_rl_env', 'racecar_driver_node', 'racecar_driver'),
        NodeSpec('rl_env', 'env_node', 'rl_env'),
        NodeSpec('rl_agent', 'agent_node', 'rl_agent'),
        NodeSpec('rl_replay', 'replay_node', 'rl_replay'),
    ),
)
