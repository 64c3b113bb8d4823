# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
from setuptools import find_packages, setup

package_name = 'rl_agent'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', ['launch/learner.launch.py']),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='sim2online developers',
    maintainer_email='dev@sim2online.local',
    description=(
        'SAC with sim-to-online stabilizers, the online learner and the agent node.'),
    license='Apache-2.0',
    extras_require={'test': ['pytest']},
    entry_points={
        'console_scripts': [
            'agent_node = rl_agent.agent_node:main',
        ],
    },
)
