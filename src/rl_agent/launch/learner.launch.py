# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
A separate learner for a robot's graph (``agent.role: learner``), here or on a GPU machine.

    ros2 launch rl_agent learner.launch.py params_file:=<the robot's parameter file>
    ros2 launch rl_agent learner.launch.py params_file:=car.yaml namespace:=car1 device:=cuda

Start the robot's graph with its agent as a pure actor (``agent.role: actor`` in the
``rl_agent`` section of its parameter file). The learner is an ``agent_node`` named
``rl_learner`` that takes the ``rl_agent`` section of the same file (``sac.*``,
``online.*``, ``agent.d0_bags``, ``agent.online_checkpoint``; ``task.*`` from ``/**``) with
``agent.role`` set to ``learner`` (and ``agent.device`` from ``device`` when given): one
source for every hyperparameter. It trains from ``rl/transitions`` while episodes run and
publishes ``rl/policy_weights``. On another machine: the same ``ROS_DOMAIN_ID``, a discovery
range that reaches the robot's computer (``ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET`` or
``ROS_STATIC_PEERS``), and paths in the parameter file that exist there.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
import yaml


def agent_section(data: dict) -> dict:
    """Return the ``rl_agent`` node's parameters of a ROS 2 parameter file (any namespace)."""
    for key, value in (data or {}).items():
        if key.rstrip('/').split('/')[-1] == 'rl_agent':
            return dict((value or {}).get('ros__parameters') or {})
    raise ValueError('the parameter file has no rl_agent section (e.g. /**/rl_agent:)')


def learner_node(context):
    """Build the learner from the resolved launch arguments."""
    params_file = LaunchConfiguration('params_file').perform(context)
    with open(params_file) as f:
        agent = agent_section(yaml.safe_load(f))
    override = {'agent.role': 'learner'}
    device = LaunchConfiguration('device').perform(context)
    if device:
        override['agent.device'] = device
    return [Node(package='rl_agent', executable='agent_node', name='rl_learner',
                 namespace=LaunchConfiguration('namespace').perform(context),
                 parameters=[params_file, agent, override], output='screen')]


def generate_launch_description():
    """Declare the arguments; the node is built once they are known."""
    return LaunchDescription([
        DeclareLaunchArgument('params_file', description="The robot graph's parameter file "
                              '(its rl_agent section configures the learner).'),
        DeclareLaunchArgument('namespace', default_value='',
                              description="The robot graph's namespace (e.g. car1)."),
        DeclareLaunchArgument('device', default_value='',
                              description='Torch device of the learner (e.g. cuda); empty: '
                                          "the parameter file's agent.device."),
        OpaqueFunction(function=learner_node),
    ])
