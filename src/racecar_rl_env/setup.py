# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
from glob import glob

from setuptools import find_packages, setup

package_name = 'racecar_rl_env'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/launch', glob('launch/*.launch.py')),
        ('share/' + package_name + '/config', glob('config/*.yaml')),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='sim2online developers',
    maintainer_email='dev@sim2online.local',
    description=(
        'RC race-car parking: task, bicycle dynamics, vector env, sim bridge plug-in, '
        'hardware adapter and driver.'),
    license='Apache-2.0',
    extras_require={'test': ['pytest']},
    entry_points={
        'console_scripts': [
            'racecar_driver_node = racecar_rl_env.racecar_driver_node:main',
        ],
        # The robot registers its task, simulator, bridge plug-in and adapter by name.
        'sim2online.tasks': [
            'racecar_parking = racecar_rl_env.plugin:PLUGIN',
        ],
    },
)
