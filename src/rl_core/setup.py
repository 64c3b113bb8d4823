# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
from setuptools import find_packages, setup

package_name = 'rl_core'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/config', ['config/fastdds_loopback.xml']),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='sim2online developers',
    maintainer_email='dev@sim2online.local',
    description=(
        'Robot-agnostic core: config specs, task/simulator/hardware interfaces, registry.'),
    license='Apache-2.0',
    extras_require={'test': ['pytest']},
)
