# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""The Panda's registration (entry point ``sim2online.tasks: panda_pick``)."""

from rl_core.registry import NodeSpec, RobotPlugin

PLUGIN = RobotPlugin(
    name='panda_pick',
    robot='panda',
    description='Franka Emika Panda: pick a 5 cm ArUco cube from 64x64 camera images '
                '(MuJoCo, mujoco.batch, Cartesian impedance)',
    task='panda_rl_env.task:PandaPickTask',
    simulator='panda_rl_env.vector_env:PandaPickVectorEnv',
    bridge='panda_rl_env.sim_bridge_plugin:PandaBridge',
    adapter='panda_rl_env.ros_adapter:PandaAdapter',
    package='panda_rl_env',
    launch_file='panda.launch.py',
    params_file='panda.yaml',
    pretrain_config='panda_pretrain.yaml',
    nodes=(
        # In simulation the bridge plays franka_ros2 and the RealSense driver; on the robot
        # franka_ros2 runs beside this graph and the camera node reads the RealSense.
        NodeSpec('sim_bridge', 'sim_bridge_node', 'sim_bridge', only='sim'),
        NodeSpec('panda_rl_env', 'camera_node', 'camera', only='hardware'),
        NodeSpec('panda_rl_env', 'cube_pose_node', 'cube_pose'),
        NodeSpec('rl_env', 'env_node', 'rl_env'),
        NodeSpec('rl_agent', 'agent_node', 'rl_agent'),
        NodeSpec('rl_replay', 'replay_node', 'rl_replay'),
    ),
)
