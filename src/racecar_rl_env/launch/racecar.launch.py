# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Race-car sim-to-online graph.

    ros2 launch racecar_rl_env racecar.launch.py                  # simulated car
    ros2 launch racecar_rl_env racecar.launch.py use_sim:=false   # physical car
    ros2 launch racecar_rl_env racecar.launch.py params_file:=my_car.yaml
    ros2 launch racecar_rl_env racecar.launch.py use_sim:=false namespace:=car1 \
        params_file:=$(ros2 pkg prefix racecar_rl_env)/share/racecar_rl_env/config/\
racecar_hardware.yaml

The node list is the robot's registration (``racecar_rl_env.plugin.PLUGIN.nodes``), the
same description ``sim2online run`` starts its processes from, so the two cannot drift.
Every parameter comes from the ``params_file`` (default: the installed racecar.yaml).
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from racecar_rl_env import racecar_constants as names
from racecar_rl_env.plugin import PLUGIN


def generate_launch_description():
    """Sim bridge (use_sim only) and the robot's nodes, all with one parameter file."""
    share = get_package_share_directory(PLUGIN.package)
    use_sim = LaunchConfiguration('use_sim')
    params = LaunchConfiguration('params_file')
    namespace = LaunchConfiguration('namespace')
    mocap_topic = LaunchConfiguration('mocap_topic')
    actions = [
        DeclareLaunchArgument('use_sim', default_value='true',
                              description='Simulated car (true) or the physical car (false).'),
        DeclareLaunchArgument('params_file', default_value=os.path.join(
            share, 'config', PLUGIN.params_file),
            description='ROS 2 parameter file for every node.'),
        DeclareLaunchArgument('namespace', default_value='',
                              description="Namespace of this car's whole graph (e.g. car1), so "
                                          'several cars share one ROS graph.'),
        DeclareLaunchArgument('mocap_topic', default_value=names.MOCAP_POSE_TOPIC,
                              description="Your motion-capture system's PoseStamped topic "
                                          '(e.g. /vrpn_mocap/car/pose).'),
    ]
    for spec in PLUGIN.nodes:
        condition = {'sim': IfCondition(use_sim), 'hardware': UnlessCondition(use_sim)}.get(
            spec.only)
        actions.append(Node(package=spec.package, executable=spec.executable, name=spec.name,
                            namespace=namespace, parameters=[params], condition=condition,
                            remappings=[(names.MOCAP_POSE_TOPIC, mocap_topic)],
                            output='screen'))
    return LaunchDescription(actions)
