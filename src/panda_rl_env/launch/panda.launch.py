# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Panda sim-to-online graph.

    ros2 launch panda_rl_env panda.launch.py                   # simulated Panda (sim bridge)
    ros2 launch panda_rl_env panda.launch.py use_sim:=false profile:=fr3_jazzy \
        params_file:=$(ros2 pkg prefix panda_rl_env)/share/panda_rl_env/config/panda_hardware.yaml

The node list is the robot's registration (``panda_rl_env.plugin.PLUGIN.nodes``), the same
description ``sim2online run`` starts its processes from. Every parameter comes from the
``params_file`` (default: the installed panda.yaml); ``profile`` selects the franka_ros2
names (``config/franka_profiles.yaml``) of the adapter and of the simulated robot. On the
robot, franka_ros2 (with a controller that follows ``equilibrium_pose``) runs beside this
graph, in the same namespace.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from panda_rl_env.plugin import PLUGIN


def generate_launch_description():
    """Sim bridge (use_sim only), camera (hardware only) and the rest, one parameter file."""
    share = get_package_share_directory(PLUGIN.package)
    use_sim = LaunchConfiguration('use_sim')
    params = LaunchConfiguration('params_file')
    namespace = LaunchConfiguration('namespace')
    profile = LaunchConfiguration('profile')
    actions = [
        DeclareLaunchArgument('use_sim', default_value='true',
                              description='Simulated Panda (true) or the physical robot '
                                          '(false).'),
        DeclareLaunchArgument('params_file', default_value=os.path.join(
            share, 'config', PLUGIN.params_file),
            description='ROS 2 parameter file for every node.'),
        DeclareLaunchArgument('namespace', default_value='',
                              description="Namespace of this robot's whole graph."),
        DeclareLaunchArgument('profile', default_value='sim',
                              description='franka_ros2 names: sim, fr3_jazzy, multipanda.'),
    ]
    for spec in PLUGIN.nodes:
        condition = {'sim': IfCondition(use_sim), 'hardware': UnlessCondition(use_sim)}.get(
            spec.only)
        extra = {'sim_bridge': {'panda.profile': profile},
                 'rl_env': {'adapter.profile': profile}}.get(spec.name, {})
        actions.append(Node(package=spec.package, executable=spec.executable, name=spec.name,
                            namespace=namespace, parameters=[params, extra],
                            condition=condition, output='screen'))
    return LaunchDescription(actions)
