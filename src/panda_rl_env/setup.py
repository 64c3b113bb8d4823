# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
from glob import glob

from setuptools import find_packages, setup

package_name = 'panda_rl_env'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/config', glob('config/*.yaml')),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='sim2online developers',
    maintainer_email='dev@sim2online.local',
    description=(
        'Franka Emika Panda vision-based cube picking: MJCF scene with an ArUco cube, '
        'Cartesian impedance in MuJoCo, task, batched simulator, pretraining configs.'),
    license='Apache-2.0',
    extras_require={'test': ['pytest']},
    entry_points={
        'console_scripts': [
            'camera_node = panda_rl_env.camera_node:main',
            'cube_pose_node = panda_rl_env.cube_pose_node:main',
        ],
        # The robot registers its task and simulator by name.
        'sim2online.tasks': [
            'panda_pick = panda_rl_env.plugin:PLUGIN',
        ],
    },
)
