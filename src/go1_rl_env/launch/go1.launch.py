# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Go1 sim-to-online graph.

    ros2 launch go1_rl_env go1.launch.py                    # simulated Go1 (SDK level)
    ros2 launch go1_rl_env go1.launch.py use_sim:=false \
        params_file:=$(ros2 pkg prefix go1_rl_env)/share/go1_rl_env/config/go1_hardware.yaml
    ros2 launch go1_rl_env go1.launch.py backend:=go2_dds   # a Go2 over unitree_sdk2py

The node list is the robot's registration (``go1_rl_env.plugin.PLUGIN.nodes``), the same
description ``sim2online run`` starts its processes from. Every parameter comes from the
``params_file`` (default: the installed go1.yaml); ``backend`` overrides the driver's and
the simulated robot's SDK level.
"""

import os

from ament_index_python.packages import get_package_share_directory
from go1_rl_env.plugin import PLUGIN
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    """Sim bridge (use_sim only) and the robot's nodes, all with one parameter file."""
    share = get_package_share_directory(PLUGIN.package)
    use_sim = LaunchConfiguration('use_sim')
    params = LaunchConfiguration('params_file')
    namespace = LaunchConfiguration('namespace')
    backend = LaunchConfiguration('backend')
    actions = [
        DeclareLaunchArgument('use_sim', default_value='true',
                              description='Simulated Go1 (true) or the physical robot (false).'),
        DeclareLaunchArgument('params_file', default_value=os.path.join(
            share, 'config', PLUGIN.params_file),
            description='ROS 2 parameter file for every node.'),
        DeclareLaunchArgument('namespace', default_value='',
                              description="Namespace of this robot's whole graph."),
        DeclareLaunchArgument('backend', default_value='go1_udp',
                              description='go1_udp (Go1, legacy UDP SDK) or go2_dds (Go2 '
                                          'family, unitree_sdk2py).'),
    ]
    for spec in PLUGIN.nodes:
        condition = {'sim': IfCondition(use_sim), 'hardware': UnlessCondition(use_sim)}.get(
            spec.only)
        extra = {'sim_bridge': {'go1.backend': backend},
                 'go1_driver': {'driver.backend': backend}}.get(spec.name, {})
        actions.append(Node(package=spec.package, executable=spec.executable, name=spec.name,
                            namespace=namespace, parameters=[params, extra],
                            condition=condition, output='screen'))
    return LaunchDescription(actions)
