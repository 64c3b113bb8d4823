# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Camera frames over DDS: Fast DDS' built-in transports against the suite's profile.

Starts the Panda's sim bridge (``panda`` plug-in, "real" variant: 640x480 rgb8 frames at
30 Hz on ``camera/color/image_raw``, and ``sim/cube_truth``, a small message sent with every
frame) and ``--subscribers`` listener processes (as the env node and the cube-pose node
subscribe), optionally beside ``--load`` busy processes (one torch thread each, like the
agent's training), for ``--seconds`` per setting, DDS on loopback. Settings, in one run:

- ``builtin``: ``FASTRTPS_DEFAULT_PROFILES_FILE`` unset (Fast DDS' built-in transports:
  SHM with 512 KiB segments, UDPv4);
- ``profile``: ``src/rl_core/config/fastdds_loopback.xml`` (8 MiB SHM segments, UDP on
  127.0.0.1 only), what ``scripts/ros_env.sh`` sets.

Prints per setting and subscriber the frames received per second against the frames the
bridge sent (counted by the truth messages), the largest gap between frames and the gaps
over 0.3 s (the Panda env aborts at 0.5 s), then the delivered-fraction ratio
profile / builtin. Needs ``rmw_fastrtps_cpp`` (the default RMW).

    python bench/camera_dds_bench.py --seconds 20 --subscribers 2 --load 1
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'test'))

from graph_harness import ros_env, stop_process  # noqa: E402

PROFILE = ROOT / 'src' / 'rl_core' / 'config' / 'fastdds_loopback.xml'
PARAMS = """
/**:
  ros__parameters:
    task: {name: panda_pick}
/**/sim_bridge:
  ros__parameters:
    plugins: [panda]
    physics_rate_hz: 100.0
    publish_clock: false
    panda: {variant: real, width: 640, height: 480, camera_hz: 30.0, seed: 0}
"""


def listen(seconds: float, name: str) -> None:
    """Listener process: count frames and truth messages, print JSON on stdout."""
    import rclpy
    from geometry_msgs.msg import PoseStamped
    from rl_core import ros_qos
    from sensor_msgs.msg import Image
    rclpy.init()
    node = rclpy.create_node(name)
    frames, truth = [], []
    node.create_subscription(Image, 'camera/color/image_raw',
                             lambda _m: frames.append(time.monotonic()), ros_qos.SENSOR)
    node.create_subscription(PoseStamped, 'sim/cube_truth',
                             lambda _m: truth.append(time.monotonic()), ros_qos.SENSOR)
    # Count from the first truth message on (discovery and the bridge's start excluded).
    deadline = time.monotonic() + 60
    while not truth and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
    start = time.monotonic() + 2.0
    end = start + seconds
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)
    frames = [t for t in frames if start <= t <= end]
    gaps = [b - a for a, b in zip(frames, frames[1:])]
    print(json.dumps({
        'frames': len(frames), 'sent': len([t for t in truth if start <= t <= end]),
        'max_gap_s': max(gaps, default=seconds), 'gaps_over_0.3s': sum(g > 0.3 for g in gaps)}))
    node.destroy_node()
    rclpy.shutdown()


def busy(seconds: float) -> None:
    """A process that keeps one core busy with torch, like the agent's training."""
    import torch
    torch.set_num_threads(1)
    a = torch.randn(512, 512)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        a = torch.tanh(a @ a)


def run_setting(label: str, profile: str, args, domain: int, folder: pathlib.Path):
    """One setting: the bridge, the load and the listeners; returns the listeners' rows."""
    from rl_experiments.sim_to_online import executable
    env = ros_env(domain)
    env.pop('FASTRTPS_DEFAULT_PROFILES_FILE', None)  # builtin: unset (Fast DDS' defaults)
    if profile:
        env['FASTRTPS_DEFAULT_PROFILES_FILE'] = profile
    params = folder / 'params.yaml'
    params.write_text(PARAMS)
    log = open(folder / f'sim_bridge_{label}.log', 'w')
    bridge = subprocess.Popen([executable('sim_bridge', 'sim_bridge_node'), '--ros-args',
                               '-r', '__node:=sim_bridge', '--params-file', str(params)],
                              env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    me = [sys.executable, __file__]
    load = [subprocess.Popen([*me, '--busy', str(args.seconds + 30)], env=env)
            for _ in range(args.load)]
    listeners = [subprocess.Popen([*me, '--listen', str(args.seconds), f'cam_listener_{i}'],
                                  env=env, stdout=subprocess.PIPE, text=True)
                 for i in range(args.subscribers)]
    try:
        rows = [json.loads(p.communicate(timeout=args.seconds + 120)[0].strip().splitlines()[-1])
                for p in listeners]
    finally:
        for p in load:
            p.kill()
            p.wait()
        stop_process(bridge, timeout=15)
    return rows


def main(argv=None):
    """Run both settings and print the table and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--seconds', type=float, default=20.0)
    parser.add_argument('--subscribers', type=int, default=2)
    parser.add_argument('--load', type=int, default=1, help='busy processes beside')
    parser.add_argument('--domain', type=int, default=97)
    parser.add_argument('--listen', nargs=2, help=argparse.SUPPRESS)
    parser.add_argument('--busy', type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.listen:
        return listen(float(args.listen[0]), args.listen[1])
    if args.busy:
        return busy(args.busy)
    delivered = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, profile) in enumerate((('builtin', ''), ('profile', str(PROFILE)))):
            rows = run_setting(label, profile, args, args.domain + i, pathlib.Path(tmp))
            for j, r in enumerate(rows):
                print(f"{label:8s} subscriber {j}: {r['frames'] / args.seconds:5.1f} of "
                      f"{r['sent'] / args.seconds:5.1f} frames/s, largest gap "
                      f"{r['max_gap_s']:.3f} s, gaps > 0.3 s: {r['gaps_over_0.3s']}",
                      flush=True)
            delivered[label] = sum(r['frames'] for r in rows) / max(1, sum(r['sent']
                                                                           for r in rows))
    print(f"delivered fraction: builtin {delivered['builtin']:.2f}, profile "
          f"{delivered['profile']:.2f}; ratio profile / builtin "
          f"{delivered['profile'] / max(delivered['builtin'], 1e-9):.2f}")


if __name__ == '__main__':
    main()
