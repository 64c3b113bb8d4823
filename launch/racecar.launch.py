# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Race-car sim-to-online graph.

    ros2 launch launch/racecar.launch.py                 # simulated car (sim bridge)
    ros2 launch launch/racecar.launch.py use_sim:=false  # the physical car (mocap + board)

Every parameter comes from config/racecar.yaml (ROS 2 parameter-file format). The test
test/test_launch_graph.py checks this file and the tests' node set do not drift apart.
"""

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'config',
                      'racecar.yaml')


def generate_launch_description():
    """Sim bridge (use_sim only), driver, env, agent and replay nodes."""
    use_sim = LaunchConfiguration('use_sim')
    config = LaunchConfiguration('config')
    return LaunchDescription([
        DeclareLaunchArgument('use_sim', default_value='true',
                              description='Simulated car (true) or the physical car (false).'),
        DeclareLaunchArgument('config', default_value=CONFIG,
                              description='ROS 2 parameter file for every node.'),
        Node(package='sim_bridge', executable='sim_bridge_node', name='sim_bridge',
             parameters=[config], condition=IfCondition(use_sim), output='screen'),
        Node(package='racecar_rl_env', executable='racecar_driver_node', name='racecar_driver',
             parameters=[config], output='screen'),
        Node(package='racecar_rl_env', executable='racecar_env_node', name='racecar_env',
             parameters=[config], output='screen'),
        Node(package='rl_agent', executable='agent_node', name='rl_agent',
             parameters=[config], output='screen'),
        Node(package='rl_replay', executable='replay_node', name='rl_replay',
             parameters=[config], output='screen'),
    ])
