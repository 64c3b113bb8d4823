# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Fault injection: ``kill -9`` of each node of the car's graph in the middle of an episode.

One graph (sim bridge, driver, env, agent, replay) runs episodes with a pi0 that drives
forward at a steady throttle, so the car is moving when a node dies. For each node in turn:
wait until the car moves faster than 0.5 m/s, SIGKILL the node, measure on a probe node
when the car was commanded to brake (``car/drive_command`` with ``brake``) and when it came
to rest (speed from the mocap poses < 0.05 m/s), check how the episode ended, restart the
node, and go on. At the end every episode flushed before a kill must be readable in the bag
(a restarted recorder appends), and the restarted agent must hold exactly the transitions
of the episodes it had completed. The measured figures are written to
``$SIM2ONLINE_FAULT_REPORT`` (JSON) when set, for the README's fault table.
"""

import json
import math
import os
import threading
import time

from graph_harness import Graph, params_with, wait_for
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
msgs = pytest.importorskip('rl_interfaces.msg')

THROTTLE = 0.2  # normalised: duty 0.08, a terminal speed of about 1.5 m/s on the nominal car
CONTROL_PERIOD = 1 / 30


def write_driving_pi0(folder, throttle=THROTTLE):
    """A policy whose mode is [steer 0, throttle]: the car drives straight at a steady pace."""
    import torch
    from graph_harness import write_untrained_pi0
    from rl_agent.sac import SAC
    write_untrained_pi0(folder, 'd0')
    agent = SAC.load(str(folder / 'checkpoint.pt'))
    with torch.no_grad():
        agent.actor.mean.weight.zero_()
        agent.actor.mean.bias.copy_(torch.tensor([0.0, math.atanh(throttle)]))
    from rl_core.run_info import read_checkpoint_run_info
    agent.save(str(folder / 'checkpoint.pt'),
               extra=read_checkpoint_run_info(str(folder / 'checkpoint.pt')))


class Probe:
    """Watches the car (mocap poses), the board's commands and the episode events."""

    def __init__(self, domain):
        from geometry_msgs.msg import PoseStamped
        from rl_core import ros_qos
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node('fault_probe', context=self.context)
        self.lock = threading.Lock()
        self.poses, self.commands, self.events = [], [], []
        self.node.create_subscription(PoseStamped, 'mocap/car/pose', self.on_pose,
                                      ros_qos.SENSOR)
        # Reliable with a deep queue (the driver publishes reliably): a probe starved of CPU
        # on a loaded machine still gets every command, late but with its stamp.
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        self.node.create_subscription(msgs.DriveCommand, 'car/drive_command',
                                      self.on_command,
                                      QoSProfile(depth=200,
                                                 reliability=ReliabilityPolicy.RELIABLE))
        self.node.create_subscription(msgs.EpisodeEvent, 'rl/episode_events', self.on_event,
                                      ros_qos.STEP)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        threading.Thread(target=self.executor.spin, daemon=True).start()

    def on_pose(self, msg):
        with self.lock:
            self.poses.append((time.monotonic(), msg.pose.position.x, msg.pose.position.y))

    def on_command(self, msg):
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        with self.lock:
            self.commands.append((time.monotonic(), msg.throttle, bool(msg.brake), stamp))

    def on_event(self, msg):
        with self.lock:
            self.events.append((time.monotonic(), msg.event, msg.episode_id, msg.reason))

    def speed(self, since=0.0, window=0.1):
        """Planar speed (m/s) over the last ``window`` seconds of poses after ``since``."""
        with self.lock:
            poses = [p for p in self.poses if p[0] >= since]
        if len(poses) < 2:
            return None
        last = poses[-1]
        first = next((p for p in poses if p[0] >= last[0] - window), poses[0])
        dt = last[0] - first[0]
        return math.hypot(last[1] - first[1], last[2] - first[2]) / dt if dt > 0 else None

    def running(self, since=0.0):
        """Return (id, start time) of the newest episode started after ``since``, if running."""
        with self.lock:
            started = [e for e in self.events
                       if e[1] == msgs.EpisodeEvent.STARTED and e[0] >= since]
            ended = {e[2] for e in self.events if e[1] != msgs.EpisodeEvent.STARTED}
        if started and started[-1][2] not in ended:
            return started[-1][2], started[-1][0]
        return None

    def moving(self, since=0.0, min_speed=0.5):
        """Return the running episode's id once the car drives faster than ``min_speed``."""
        running = self.running(since)
        if running is None:
            return None
        # Poses from before the episode's start (the reset places the car) do not count.
        speed = self.speed(since=running[1] + 0.2)
        return running[0] if speed is not None and speed > min_speed else None

    def first_brake(self, since_wall):
        """Stamp (the driver's wall clock) of its first brake command after ``since_wall``.

        The stamp, not the arrival here: on a loaded machine this probe may receive (or,
        best effort, lose) commands late although the driver sent them in time.
        """
        with self.lock:
            return next((stamp for _, _, brake, stamp in self.commands
                         if stamp >= since_wall and brake), None)

    def end_of(self, episode_id):
        with self.lock:
            return next((e for e in self.events
                         if e[2] == episode_id and e[1] != msgs.EpisodeEvent.STARTED), None)

    def at_rest_after(self, since, timeout=10.0):
        """Time when the car came to rest (< 0.05 m/s over 0.2 s) after ``since``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                poses = [p for p in self.poses if p[0] >= since]
            for i in range(len(poses)):
                later = [p for p in poses[i:] if p[0] - poses[i][0] <= 0.2]
                if len(later) > 2 and later[-1][0] - poses[i][0] > 0.15:
                    d = math.hypot(later[-1][1] - poses[i][1], later[-1][2] - poses[i][2])
                    if d / (later[-1][0] - poses[i][0]) < 0.05:
                        return poses[i][0]
            time.sleep(0.1)
        return None

    def close(self):
        self.executor.shutdown()
        rclpy.shutdown(context=self.context)


def test_kill_each_node_mid_episode(tmp_path):
    pi0 = tmp_path / 'pi0'
    pi0.mkdir()
    write_driving_pi0(pi0)
    domain = 210 + os.getpid() % 20
    params = params_with({
        '/**': {'task.checkpoint': str(pi0 / 'checkpoint.pt')},
        'sim_bridge': {'racecar.variant': 'nominal'},
        # state timeout 0.5 s (0.2 in the robot's file): killing a process (SIGKILL) can
        # stall the survivors' DDS traffic for ~0.2 s on a loaded machine, which must not
        # pass for the fault under test (seen once: the recorder's kill ended as stale_state)
        'rl_env': {'env.trial_id': 'faults', 'env.warmup_s': 0.5, 'env.state_timeout_s': 0.5},
        'rl_agent': {'agent.online_checkpoint': str(tmp_path / 'online' / 'agent.pt'),
                     'agent.d0_bags': [str(pi0 / 'd0')], 'agent.explore': False,
                     'online.utd': 0.0, 'online.warm_start_episodes': 0},
        'rl_replay': {'replay.bag_root': str(tmp_path / 'bags'), 'replay.trial_id': 'faults'},
    }, tmp_path)
    graph = Graph(tmp_path, params, domain)
    probe = Probe(domain)
    report = {}
    nodes = {name: (package, exe) for package, exe, name in
             [('rl_env', 'env_node', 'rl_env'), ('racecar_rl_env', 'racecar_driver_node',
                                                  'racecar_driver'),
              ('rl_agent', 'agent_node', 'rl_agent'), ('rl_replay', 'replay_node', 'rl_replay'),
              ('sim_bridge', 'sim_bridge_node', 'sim_bridge')]}
    try:
        graph.start_all()
        restarted = 0.0
        for victim in ('rl_env', 'racecar_driver', 'rl_agent', 'rl_replay', 'sim_bridge'):
            # An episode started after the last restart (the killed env's episode never ends),
            # and at least 2 s after it: a process's first second can miss the 0.1 s action
            # watchdog (seen: the recorder's kill 1 s after the agent's restart ended as
            # 'watchdog', the fresh graph's first episode too), which is not the fault tested.
            episode = wait_for(lambda: probe.moving(restarted + 2.0 if restarted else 0.0), 120,
                               what=f'a moving car before killing {victim}')
            speed = probe.speed()
            killed = time.monotonic()
            killed_wall = time.time()
            graph.kill(victim)
            row = {'speed_at_kill_m_s': round(speed, 2)}
            if victim != 'sim_bridge':
                brake = wait_for(lambda: probe.first_brake(killed_wall), 10,
                                 what=f'a brake command after killing {victim}') \
                    if victim != 'racecar_driver' else None
                if brake is not None:
                    row['brake_command_after_s'] = round(brake - killed_wall, 3)
                rest = probe.at_rest_after(killed)
                assert rest is not None, f'the car did not come to rest after killing {victim}'
                row['at_rest_after_s'] = round(rest - killed, 3)
            if victim not in ('rl_env',):
                end = wait_for(lambda: probe.end_of(episode), 15,
                               what=f'episode {episode} to end after killing {victim}')
                row['episode_end'] = end[3]
                row['episode_end_after_s'] = round(end[0] - killed, 3)
            report[victim] = row
            print(victim, row, flush=True)
            graph.start(*nodes[victim], victim)
            restarted = time.monotonic()
        # The graph recovers: one more episode ends normally after the last restart.
        last = max(e[2] for e in probe.events)
        wait_for(lambda: probe.end_of(last + 1) is not None, 180,
                 what='an episode after all restarts')
        # The recorder has it too before the graph is stopped (on a loaded machine the end
        # event can reach the probe well before the recorder has flushed it).
        wait_for(lambda: f'episode {last + 1} flushed' in graph.log('rl_replay'), 60,
                 what=f'the recorder to flush episode {last + 1}')
    finally:
        probe.close()
        graph.stop()
    # What each kill did to the episode.
    assert report['rl_agent']['episode_end'].startswith('watchdog')
    assert report['rl_replay']['episode_end'].startswith('recorder_lost')
    assert report['sim_bridge']['episode_end'].startswith('stale_state')
    # Braked within: two control periods (the driver's relay timeout) for a dead env node, the
    # action watchdog (0.1 s) for a dead agent, the recorder heartbeat timeout (1 s) for a
    # dead recorder; bounds with slack for a loaded CI machine.
    assert report['rl_env']['brake_command_after_s'] < 0.5, report
    assert report['rl_agent']['brake_command_after_s'] < 0.5, report
    assert report['rl_replay']['brake_command_after_s'] < 2.0, report
    for victim in ('rl_env', 'racecar_driver', 'rl_agent', 'rl_replay'):
        assert report[victim]['at_rest_after_s'] < 3.0, report
    # Every episode flushed before a kill is in the bag; the restarted recorder appended.
    from rl_replay.bag_io import iter_events, read_bag_arrays
    bag = tmp_path / 'bags' / 'faults'
    arrays = read_bag_arrays(bag)
    assert np.isfinite(arrays['obs']).all()
    ended = {e.episode_id for _, e in iter_events(bag) if e.event != 0}
    with_steps = set(arrays['episode_id'].tolist())
    # The episode that lost its env node has no end event, the one that lost its recorder
    # had its end unrecorded; the other ends (driver, agent, sim bridge kills and the final
    # episode) are in the bag, also those recorded by the restarted recorder.
    assert len(ended) >= 4 and max(ended) == max(with_steps | ended), (ended, with_steps)
    assert min(with_steps) == 1 and len(with_steps) >= 4, with_steps
    # The restarted agent holds exactly the transitions of the episodes it completed.
    from rl_agent.sac import SAC
    state = SAC.read_checkpoint(str(tmp_path / 'online' / 'agent.pt'))
    buffer = state['online']['buffer']
    stored = buffer['episode_id'][:len(buffer['reward'])].tolist()
    # (Compared on the episodes whose end the bag holds: the one during which the recorder
    # was dead is, by design, only partly or not at all in the bag, and was aborted for it.)
    assert ended & set(stored)
    for episode_id in ended & set(stored):
        in_bag = int((arrays['episode_id'] == episode_id).sum())
        assert stored.count(episode_id) == in_bag, (episode_id, stored.count(episode_id),
                                                    in_bag)
    path = os.environ.get('SIM2ONLINE_FAULT_REPORT')
    if path:
        with open(path, 'w') as f:
            json.dump(report, f, indent=1)
