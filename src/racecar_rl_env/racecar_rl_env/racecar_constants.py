# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Names shared by the race-car task, the sim bridge, the driver and the env node."""

STATE_FIELDS = ('px', 'py', 'theta', 'vx', 'vy', 'omega')  # world pose, body-frame velocity
ACTION_FIELDS = ('steer', 'throttle')                      # both normalised to [-1, 1]
FRAME_FIELDS = ('x', 'y', 'sin_theta', 'cos_theta', 'vx', 'vy', 'omega')

WORLD_FRAME = 'world'
BODY_FRAME = 'car/base_link'
# Relative names: a namespace (launch argument) moves a whole car's graph.
MOCAP_POSE_TOPIC = 'mocap/car/pose'        # geometry_msgs/PoseStamped, as a mocap system
ODOM_TOPIC = 'car/odom'                    # nav_msgs/Odometry from the driver
# The env node's adapter sends commands to the race-car driver, which relays them to the
# car's board at a fixed rate and brakes when they stop coming (the env node died).
COMMAND_TOPIC = 'car/command'              # rl_interfaces/DriveCommand, env -> driver
DRIVE_COMMAND_TOPIC = 'car/drive_command'  # rl_interfaces/DriveCommand, driver -> board
SIM_RESET_SERVICE = 'sim/reset'            # std_srvs/Trigger, simulation only
