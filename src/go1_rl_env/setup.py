# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
from glob import glob

from setuptools import find_packages, setup

package_name = 'go1_rl_env'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/config', glob('config/*.yaml')),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='sim2online developers',
    maintainer_email='dev@sim2online.local',
    description=(
        'Unitree Go1 joystick velocity tracking: MJCF model, task, batched MuJoCo simulator, '
        'throughput benchmark, pretraining configs.'),
    license='Apache-2.0',
    extras_require={'test': ['pytest']},
    entry_points={
        'console_scripts': [
            'go1_driver_node = go1_rl_env.go1_driver_node:main',
        ],
        # The robot registers its task and simulator by name.
        'sim2online.tasks': [
            'go1_joystick = go1_rl_env.plugin:PLUGIN',
        ],
    },
)
