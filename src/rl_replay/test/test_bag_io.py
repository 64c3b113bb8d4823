# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""Buffers to rosbag2 MCAP and back: exact round trip, several bags, clear errors."""

import numpy as np
import pytest
from rl_replay import bag_cli
from rl_replay.bag_io import (BagFormatError, BagTransitionWriter, load_buffer_from_bags,
                              read_bag_arrays, run_info, write_bag)
from rl_replay.buffer import ReplayBuffer
import torch


def make_buffer(n, seed, feature_dtype=torch.float32, pixel_shape=None, obs_dim=5):
    g = torch.Generator().manual_seed(seed)
    buf = ReplayBuffer(n, obs_dim, 2, feature_dtype=feature_dtype, pixel_shape=pixel_shape)
    pixels = (torch.randint(0, 256, (n, *pixel_shape), generator=g, dtype=torch.uint8)
              if pixel_shape else None)
    buf.add_batch(torch.randn(n, obs_dim, generator=g), torch.rand(n, 2, generator=g) * 2 - 1,
                  torch.randn(n, generator=g), torch.randn(n, obs_dim, generator=g),
                  torch.rand(n, generator=g) < 0.2, torch.rand(n, generator=g) < 0.2,
                  pixels=pixels, next_pixels=None if pixels is None else pixels.flip(0),
                  episode_id=torch.arange(n) // 7, step_id=torch.arange(n) % 7)
    return buf


@pytest.mark.parametrize('dtype', [torch.float32, torch.float16])
def test_buffer_bag_buffer_round_trip_is_exact(tmp_path, dtype):
    buf = make_buffer(300, 0, dtype)
    write_bag(tmp_path / 'bag', buf, metadata={'env': {'name': 'test'}})
    loaded = load_buffer_from_bags([tmp_path / 'bag'], feature_dtype=dtype)
    for key, value in buf.arrays().items():
        assert np.array_equal(value, loaded.arrays()[key]), key
    assert run_info(tmp_path / 'bag') == {'env': {'name': 'test'}}


def test_pixels_round_trip(tmp_path):
    buf = make_buffer(20, 1, pixel_shape=(2, 6, 4))
    write_bag(tmp_path / 'bag', buf)
    arrays = read_bag_arrays(tmp_path / 'bag')
    assert np.array_equal(arrays['pixels'], buf.arrays()['pixels'])
    assert np.array_equal(arrays['next_pixels'], buf.arrays()['next_pixels'])


def test_d0_from_several_bags_concatenates(tmp_path):
    a, b = make_buffer(40, 2), make_buffer(25, 3)
    write_bag(tmp_path / 'a', a)
    write_bag(tmp_path / 'b', b)
    d0 = load_buffer_from_bags([tmp_path / 'a', tmp_path / 'b'])
    assert len(d0) == 65
    assert np.array_equal(d0.arrays()['obs'], np.concatenate([a.arrays()['obs'],
                                                              b.arrays()['obs']]))


def test_inconsistent_dims_across_bags_refused(tmp_path):
    write_bag(tmp_path / 'a', make_buffer(5, 0))
    write_bag(tmp_path / 'b', make_buffer(5, 0, obs_dim=6))
    with pytest.raises(BagFormatError, match='cannot form one D0'):
        read_bag_arrays([tmp_path / 'a', tmp_path / 'b'])


def test_missing_and_non_bag_paths(tmp_path):
    with pytest.raises(BagFormatError, match='does not exist'):
        read_bag_arrays(tmp_path / 'nope')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(BagFormatError, match='no metadata.yaml'):
        read_bag_arrays(tmp_path / 'empty')


@pytest.mark.parametrize('damage', ['truncate', 'garbage'])
def test_corrupt_bag_gives_clear_error(tmp_path, damage):
    write_bag(tmp_path / 'bag', make_buffer(200, 4))
    mcap = next((tmp_path / 'bag').glob('*.mcap'))
    data = mcap.read_bytes()
    if damage == 'truncate':
        mcap.write_bytes(data[: len(data) // 2])
    else:
        mcap.write_bytes(data[:64] + b'\x13' * (len(data) - 64))
    with pytest.raises(BagFormatError, match='bag'):
        read_bag_arrays(tmp_path / 'bag')


def test_foreign_bag_refused(tmp_path):
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import get_typestore, Stores
    store = get_typestore(Stores.ROS2_JAZZY)
    string = store.types['std_msgs/msg/String']
    for name, topic in (('wrong_type', '/rl/transitions'), ('no_topic', '/chatter')):
        with Writer(tmp_path / name, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
            conn = writer.add_connection(topic, 'std_msgs/msg/String', typestore=store)
            writer.write(conn, 1, store.serialize_cdr(string(data='hi'), 'std_msgs/msg/String'))
    with pytest.raises(BagFormatError, match='carries std_msgs/msg/String'):
        read_bag_arrays(tmp_path / 'wrong_type')
    with pytest.raises(BagFormatError, match='has no /rl/transitions topic'):
        read_bag_arrays(tmp_path / 'no_topic')


def test_streaming_writer_events_and_cli_summary(tmp_path, capsys):
    with BagTransitionWriter(tmp_path / 'trial', trial_id='t0') as writer:
        for step in range(3):
            writer.write_transition(1000 + step, episode_id=0, step_id=step,
                                    obs=np.zeros(4), action=[0.1, 0.2], reward=1.0,
                                    terminated=False, truncated=step == 2, next_obs=np.ones(4))
        writer.write_event(2000, episode_id=0, event=1, reason='time_limit', num_steps=3,
                           episode_return=3.0, success=True)
    with pytest.raises(FileExistsError):
        BagTransitionWriter(tmp_path / 'trial')
    assert bag_cli.main(['summary', str(tmp_path / 'trial')]) == 0
    out = capsys.readouterr().out
    assert 'ended:time_limit' in out and '3.000' in out
    assert bag_cli.main(['list', str(tmp_path)]) == 0
    assert '/rl/transitions=3' in capsys.readouterr().out


def test_rclpy_decodes_every_message(tmp_path):
    msg = pytest.importorskip('rl_interfaces.msg')
    from rclpy.serialization import deserialize_message
    from rosbags.rosbag2 import Reader
    buf = make_buffer(30, 5)
    write_bag(tmp_path / 'bag', buf)
    decoded = []
    with Reader(tmp_path / 'bag') as reader:
        for _, _, raw in reader.messages():
            decoded.append(deserialize_message(raw, msg.Transition))
    assert len(decoded) == 30
    assert np.array_equal(np.array([list(m.action) for m in decoded], np.float32),
                          buf.arrays()['action'])


def test_pixel_bag_loads_into_a_pixel_buffer_exactly(tmp_path):
    buf = make_buffer(30, 6, pixel_shape=(1, 16, 16))
    write_bag(tmp_path / 'bag', buf)
    loaded = load_buffer_from_bags([tmp_path / 'bag'])
    assert loaded.pixel_shape == (1, 16, 16)
    assert loaded.storage['pixels'].dtype == torch.uint8
    for key, value in buf.arrays().items():
        assert np.array_equal(value, loaded.arrays()[key]), key
    batch = loaded.sample(8, torch.Generator().manual_seed(0))
    assert batch.pixels.shape == (8, 1, 16, 16) and batch.pixels.dtype == torch.uint8
    assert batch.next_pixels.shape == (8, 1, 16, 16)


def test_bags_with_and_without_pixels_refused_together(tmp_path):
    write_bag(tmp_path / 'a', make_buffer(5, 0, pixel_shape=(1, 4, 4)))
    write_bag(tmp_path / 'b', make_buffer(5, 0))
    write_bag(tmp_path / 'c', make_buffer(5, 0, pixel_shape=(2, 4, 4)))
    with pytest.raises(BagFormatError, match='cannot form one D0'):
        read_bag_arrays([tmp_path / 'a', tmp_path / 'b'])
    with pytest.raises(BagFormatError, match=r'\(2, 4, 4\).*\(1, 4, 4\)'):
        read_bag_arrays([tmp_path / 'a', tmp_path / 'c'])
