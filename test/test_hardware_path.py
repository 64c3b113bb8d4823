# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The physical car's path, with fake hardware: no sim bridge, no simulator services.

The driver, env, agent and replay nodes run with the hardware parameter file
(``config/racecar_hardware.yaml``: no reset service, operator acknowledgement) against
``fake_hardware.py world``: a best-effort 120 Hz mocap with jitter and its own clock, and a
board that integrates a car and brakes on its own command timeout. The test is the
operator: it places the car after each episode and acknowledges on ``rl/operator_ack``
when the env waits for it. A second test runs the sim bridge with ``publish_clock`` and
the driver and env with ``use_sim_time``: observation stamps follow ``/clock``.
"""

import math
import os
import pathlib
import subprocess
import sys
import threading
import time

from graph_harness import (call_service, Graph, NODES, params_with, ros_env, SIM_ONLY,
                           stop_process, wait_for, write_untrained_pi0)
import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
msgs = pytest.importorskip('rl_interfaces.msg')

ROOT = pathlib.Path(__file__).resolve().parents[1]
HARDWARE_PARAMS = ROOT / 'src' / 'racecar_rl_env' / 'config' / 'racecar_hardware.yaml'
FAKE_HARDWARE = ROOT / 'test' / 'fake_hardware.py'
EPISODES = 3
STEPS = 20


class Operator:
    """The person at the car: places it, acknowledges; also watches the car and the env."""

    def __init__(self, domain):
        from diagnostic_msgs.msg import DiagnosticArray
        from rl_core import ros_qos
        from std_msgs.msg import Empty
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain)
        self.node = rclpy.create_node('operator', context=self.context)
        self.lock = threading.Lock()
        self.events, self.drive, self.fake_status = [], [], []
        self.ack_pub = self.node.create_publisher(Empty, 'rl/operator_ack', ros_qos.STEP)
        self.place_pub = self.node.create_publisher(Empty, 'fake/place_car', 10)
        self.node.create_subscription(msgs.EpisodeEvent, 'rl/episode_events', self.on_event,
                                      ros_qos.LATCHED)
        self.node.create_subscription(msgs.DriveCommand, 'car/drive_command', self.on_drive,
                                      ros_qos.SENSOR)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self.on_diagnostics, 50)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        threading.Thread(target=self.executor.spin, daemon=True).start()

    def on_event(self, msg):
        with self.lock:
            self.events.append((time.monotonic(), msg))

    def on_drive(self, msg):
        with self.lock:
            self.drive.append((time.monotonic(), msg.brake, msg.throttle))

    def on_diagnostics(self, msg):
        with self.lock:
            for status in msg.status:
                if status.hardware_id == 'fake_racecar':
                    values = {kv.key: kv.value for kv in status.values}
                    self.fake_status.append((time.monotonic(), status.message, values))

    def ended(self):
        with self.lock:
            return [(t, e) for t, e in self.events if e.event != msgs.EpisodeEvent.STARTED]

    def started(self):
        with self.lock:
            return sum(1 for _, e in self.events if e.event == msgs.EpisodeEvent.STARTED)

    def ack(self):
        from std_msgs.msg import Empty
        self.ack_pub.publish(Empty())

    def place_car(self):
        from std_msgs.msg import Empty
        self.place_pub.publish(Empty())

    def car(self):
        """Return the fake board's newest status values."""
        with self.lock:
            return self.fake_status[-1][2] if self.fake_status else {}

    def close(self):
        self.executor.shutdown()
        rclpy.shutdown(context=self.context)


def start_fake_hardware(folder, domain, *ros_args):
    """Start ``fake_hardware.py world`` as its own process (log: fake_hardware.log)."""
    log = open(folder / 'fake_hardware.log', 'a')
    return subprocess.Popen(
        [sys.executable, str(FAKE_HARDWARE), 'world', '--ros-args', *ros_args],
        cwd=folder, env=ros_env(domain), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)


def test_hardware_path_runs_episodes_with_operator_ack_and_the_car_brakes(tmp_path):
    pi0 = tmp_path / 'pi0'
    pi0.mkdir()
    write_untrained_pi0(pi0, 'd0')
    domain = int(os.environ['ROS_DOMAIN_ID'])
    params = params_with({
        '/**': {'task.checkpoint': str(pi0 / 'checkpoint.pt'),
                'task.overrides': f'{{"episode_steps": {STEPS}}}'},
        # Timeouts of the hardware file, except the watchdog and staleness limits: on this
        # shared 2-core test machine single processes stall for up to ~0.4 s.
        'rl_env': {'env.trial_id': 'hw', 'env.warmup_s': 0.5, 'env.action_timeout_s': 0.6,
                   'env.state_timeout_s': 0.6},
        'rl_agent': {'agent.online_checkpoint': str(tmp_path / 'online' / 'agent.pt'),
                     'agent.d0_bags': [str(pi0 / 'd0')], 'agent.max_episodes': EPISODES,
                     'online.utd': 1.0, 'online.min_replay': 2 * STEPS},
        'rl_replay': {'replay.bag_root': str(tmp_path / 'bags'), 'replay.trial_id': 'hw'},
    }, tmp_path, source=HARDWARE_PARAMS)
    graph = Graph(tmp_path, params, domain)
    fake = start_fake_hardware(tmp_path, domain, '-p', 'car.variant:=nominal',
                               '-p', 'mocap.rate_hz:=120.0', '-p', 'mocap.jitter_s:=0.003',
                               '-p', 'mocap.clock_offset_s:=0.002')
    operator = Operator(domain)
    try:
        graph.start_all(names={name for _, _, name in NODES if name not in SIM_ONLY})
        acked = placed = 0
        last_ack = 0.0
        deadline = time.monotonic() + 240
        while len(operator.ended()) < EPISODES:
            assert time.monotonic() < deadline, (
                f'episodes did not finish in time: {len(operator.ended())} ended, '
                f'{operator.started()} started, {acked} acks sent; env log tail:\n'
                + graph.log('rl_env')[-3000:])
            if len(operator.ended()) > placed:
                operator.place_car()  # after each episode: carry the car back to the start
                placed = len(operator.ended())
            # The env is waiting while it said so more often than episodes started. The
            # operator presses the button again after a second without a start (an ack sent
            # before DDS matched the env's subscription under CI load is lost; the env ignores
            # an ack when it is not waiting).
            waiting = graph.log('rl_env').count('waiting for rl/operator_ack')
            if waiting > operator.started() and time.monotonic() - last_ack > 1.0:
                time.sleep(0.2)  # the operator looks, then presses the button
                operator.ack()
                acked += 1
                last_ack = time.monotonic()
            time.sleep(0.05)
        end_time = operator.ended()[-1][0]
        # After the last episode the board is told to brake and the car comes to rest.
        wait_for(lambda: any(brake for t, brake, _ in operator.drive if t > end_time), 5,
                 what='a brake command to the board after the episode')
        wait_for(lambda: float(operator.car().get('speed_m_s', 'nan')) < 0.05, 5,
                 what='the fake car at rest')
        car = operator.car()
        fake_log = (tmp_path / 'fake_hardware.log').read_text()
    finally:
        operator.close()
        graph.stop()
        stop_process(fake)
    events = [e for _, e in operator.ended()]
    reasons = [(e.episode_id, e.event, e.reason) for e in events]
    print('episodes:', reasons, 'board:', car)
    assert all(e.event == msgs.EpisodeEvent.ENDED and e.reason in ('time_limit', 'out_of_arena')
               for e in events), reasons
    assert acked >= EPISODES
    # Every step of every episode is in the bag.
    from rl_replay.bag_io import read_bag_arrays
    arrays = read_bag_arrays(tmp_path / 'bags' / 'hw')
    for e in events:
        n = int((arrays['episode_id'] == e.episode_id).sum())
        assert n == STEPS if e.reason == 'time_limit' else 1 <= n <= STEPS, (e.episode_id, n)
    # The board received the policy's commands (relayed by the driver) and brakes.
    # Counted where they must arrive, at the board: the test's own listener (a Python thread
    # beside the test's polling) once caught 40 of the 60 drive commands the board got under
    # CI load. Commands use the COMMAND QoS (reliable, keep last 1: an actuator wants the
    # newest command, not a backlog), so a board process that is slow to take them under CI
    # load gets fewer than one per step by design (42 of 60 in one CI run); every step is
    # checked in the bag above, and the driver's relay of each command in
    # test_driver_safety.py.
    assert int(car['commands']) > EPISODES * STEPS
    assert int(car['brake_commands']) > 0
    assert int(car['commands']) - int(car['brake_commands']) >= EPISODES * STEPS * 0.5, car
    with operator.lock:
        driving = [thr for _, brake, thr in operator.drive if not brake and thr != 0.0]
    assert driving  # the policy's own throttle, as sent on the wire
    assert 'board: no drive command received yet: braking' in fake_log
    # Ctrl-C (graph.stop): the env node stops the robot and exits cleanly, no exception
    # raised inside a callback.
    env_log = graph.log('rl_env')
    assert 'shutting down: robot commanded to stop' in env_log
    assert 'Exception in' not in env_log and 'Traceback' not in env_log, env_log[-2000:]
    assert math.isfinite(float(car['x'])) and int(car['poses_published']) > 100


def test_use_sim_time_observations_follow_the_clock(tmp_path):
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from rl_core import ros_qos
    from rosgraph_msgs.msg import Clock
    from std_srvs.srv import Trigger
    pi0 = tmp_path / 'pi0'
    pi0.mkdir()
    write_untrained_pi0(pi0, 'd0')
    domain = int(os.environ['ROS_DOMAIN_ID'])
    params = params_with({
        '/**': {'task.checkpoint': str(pi0 / 'checkpoint.pt'),
                'task.overrides': f'{{"episode_steps": {STEPS}}}'},
        'sim_bridge': {'publish_clock': True, 'racecar.variant': 'nominal'},
        'racecar_driver': {'use_sim_time': True},
        # The probe answers from a Python callback; a loaded CI machine can take longer than
        # the default 0.1 s watchdog, and odometry once came 0.34 s late against the 0.2 s
        # state timeout (this test is about time stamps; the watchdog and the stale-state
        # stop have their own tests).
        'rl_env': {'use_sim_time': True, 'env.recorder_node': '', 'env.warmup_s': 0.3,
                   'env.action_timeout_s': 0.5, 'env.state_timeout_s': 0.5},
    }, tmp_path)
    graph = Graph(tmp_path, params, domain)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    node = rclpy.create_node('sim_time_probe', context=context)
    lock = threading.Lock()
    clock = [None]
    observations, events = [], []

    def on_clock(msg):
        with lock:
            clock[0] = msg.clock.sec + msg.clock.nanosec * 1e-9

    action_pub = node.create_publisher(msgs.Action, 'rl/action', ros_qos.STEP)

    def on_obs(msg):
        with lock:
            observations.append((msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9,
                                 clock[0]))
        out = msgs.Action()
        out.header = msg.header
        out.action = [0.0, 0.0]
        action_pub.publish(out)

    node.create_subscription(Clock, '/clock', on_clock,
                             QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    node.create_subscription(msgs.Observation, 'rl/observation', on_obs, ros_qos.STEP)
    node.create_subscription(msgs.EpisodeEvent, 'rl/episode_events', events.append,
                             ros_qos.LATCHED)
    start = node.create_client(Trigger, 'rl/start_episode')
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    try:
        graph.start_all(names={'sim_bridge', 'racecar_driver', 'rl_env'})
        assert start.wait_for_service(timeout_sec=60)
        # The probe must have discovered the bridge's /clock before the episode, or the first
        # observations arrive with no clock to compare against.
        wait_for(lambda: clock[0] is not None, 60, what='/clock from the sim bridge')

        def started():
            return call_service(start, Trigger.Request(), 'rl/start_episode').success
        wait_for(started, 30, step=0.5, what='an episode to start')
        wait_for(lambda: [e for e in events if e.event != msgs.EpisodeEvent.STARTED], 60,
                 what='the episode to end')
    finally:
        executor.shutdown()
        rclpy.shutdown(context=context)
        graph.stop()
    end = [e for e in events if e.event != msgs.EpisodeEvent.STARTED][-1]
    assert (end.event, end.reason) == (msgs.EpisodeEvent.ENDED, 'time_limit'), end.reason
    stamps = [s for s, _ in observations]
    print(f'{len(stamps)} observations, sim-time stamps {stamps[0]:.3f} .. {stamps[-1]:.3f} s')
    # Simulation time (since the bridge started), not the wall clock ...
    assert 0.0 < stamps[0] < 600.0
    # ... following /clock: a stamp is a few clock ticks from the probe's latest /clock on
    # arrival. Both reach the probe through its one callback thread, so on a loaded machine single
    # observations are handled late (CI saw one past 0.1 s): most within 0.1 s, none past 1 s
    # (wall-clock stamps would be ~1.8e9 s off).
    gaps = [abs(s - c) for s, c in observations if c is not None]
    print(f'|stamp - /clock| median {np.median(gaps):.3f} s, max {max(gaps):.3f} s')
    assert len(gaps) == len(observations), observations[:5]
    assert np.mean(np.array(gaps) < 0.1) >= 0.8 and max(gaps) < 1.0, observations
    # and a control period of simulation time apart on average (the clock moves in 10 ms
    # ticks; a busy machine delays single ticks).
    steps = [b - a for a, b in zip(stamps, stamps[1:])]
    print('steps (s of sim time):', [round(d, 3) for d in steps])
    assert all(0.0 < d < 0.15 for d in steps), steps
    assert sum(steps) / len(steps) == pytest.approx(1 / 30, abs=0.01)
