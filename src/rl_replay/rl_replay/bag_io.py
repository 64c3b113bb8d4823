# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Transitions to and from rosbag2 (MCAP storage) with ``rosbags``; no rclpy needed.

Messages are ``rl_interfaces/msg/Transition`` on ``/rl/transitions`` and
``rl_interfaces/msg/EpisodeEvent`` on ``/rl/episode_events``, registered from the
interface package's own ``.msg`` files, so the CDR bytes equal what rclpy publishes and
``ros2 bag`` / rclpy ``deserialize_message`` read them. Bags use metadata version 9 (the
Jazzy format); Humble's reader expects version 8. Pixels (C, H, W) are stored as C
``mono8`` ``sensor_msgs/Image``s. The configs of the run that produced the data are
stored in the bag's ``custom_data`` under ``sim2online/run_info`` (JSON).
"""

import json
import os
from pathlib import Path
import time
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Union

import numpy as np

TRANSITION_TOPIC = '/rl/transitions'
EVENT_TOPIC = '/rl/episode_events'
TRANSITION_TYPE = 'rl_interfaces/msg/Transition'
EVENT_TYPE = 'rl_interfaces/msg/EpisodeEvent'
OBSERVATION_TYPE = 'rl_interfaces/msg/Observation'
RUN_INFO_KEY = 'sim2online/run_info'
BAG_VERSION = 9
MESSAGE_NAMES = ('Observation', 'Transition', 'EpisodeEvent', 'Action', 'DriveCommand')


class BagFormatError(RuntimeError):
    """A path is not a readable rosbag2 bag of sim2online transitions."""


def msg_dir() -> Path:
    """Return the folder holding rl_interfaces' .msg files (share/ or source tree)."""
    try:
        from ament_index_python.packages import get_package_share_directory
        path = Path(get_package_share_directory('rl_interfaces')) / 'msg'
        if path.is_dir():
            return path
    except Exception:  # noqa: BLE001 - ament index absent or package not installed
        pass
    return Path(__file__).resolve().parents[2] / 'rl_interfaces' / 'msg'


_TYPESTORE = None


def typestore():
    """Return a Jazzy typestore with the rl_interfaces messages registered (cached)."""
    global _TYPESTORE
    if _TYPESTORE is None:
        from rosbags.typesys import get_types_from_msg, get_typestore, Stores
        store = get_typestore(Stores.ROS2_JAZZY)
        folder = msg_dir()
        types = {}
        for name in MESSAGE_NAMES:
            path = folder / f'{name}.msg'
            if path.is_file():
                types.update(get_types_from_msg(path.read_text(),
                                                f'rl_interfaces/msg/{name}'))
        if TRANSITION_TYPE not in types:
            raise BagFormatError(f'rl_interfaces message definitions not found in {folder}')
        store.register(types)
        _TYPESTORE = store
    return _TYPESTORE


# ------------------------------------------------------------------------ message building
def _stamp(ns: int):
    t = typestore().types['builtin_interfaces/msg/Time']
    return t(sec=int(ns // 1_000_000_000), nanosec=int(ns % 1_000_000_000))


def _header(ns: int, frame_id: str = ''):
    return typestore().types['std_msgs/msg/Header'](stamp=_stamp(ns), frame_id=frame_id)


def _images(pixels: Optional[np.ndarray], ns: int) -> List:
    if pixels is None:
        return []
    image = typestore().types['sensor_msgs/msg/Image']
    pixels = np.asarray(pixels, dtype=np.uint8)
    return [image(header=_header(ns), height=int(c.shape[0]), width=int(c.shape[1]),
                  encoding='mono8', is_bigendian=0, step=int(c.shape[1]),
                  data=np.ascontiguousarray(c).reshape(-1)) for c in pixels]


def make_transition(ns: int, trial_id: str, episode_id: int, step_id: int, obs, action,
                    reward: float, terminated: bool, truncated: bool, next_obs,
                    pixels=None, next_pixels=None):
    """Build a rosbags ``Transition`` message object."""
    types = typestore().types
    observation = types[OBSERVATION_TYPE]
    return types[TRANSITION_TYPE](
        header=_header(ns), trial_id=trial_id, episode_id=int(episode_id),
        step_id=int(step_id),
        observation=observation(header=_header(ns),
                                state=np.asarray(obs, dtype=np.float32),
                                images=_images(pixels, ns)),
        action=np.asarray(action, dtype=np.float32), reward=float(reward),
        terminated=bool(terminated), truncated=bool(truncated),
        next_observation=observation(header=_header(ns),
                                     state=np.asarray(next_obs, dtype=np.float32),
                                     images=_images(next_pixels, ns)))


def make_event(ns: int, trial_id: str, episode_id: int, event: int, reason: str = '',
               num_steps: int = 0, episode_return: float = 0.0, success: bool = False,
               metrics: Optional[Dict[str, float]] = None):
    """Build a rosbags ``EpisodeEvent`` message object (``metrics``: name -> value)."""
    metrics = metrics or {}
    return typestore().types[EVENT_TYPE](
        header=_header(ns), trial_id=trial_id, episode_id=int(episode_id), event=int(event),
        reason=reason, num_steps=int(num_steps), episode_return=float(episode_return),
        success=bool(success), metric_names=list(metrics),
        metric_values=np.asarray(list(metrics.values()), dtype=np.float32))


def serialize(msg, msgtype: str) -> bytes:
    """CDR bytes of a rosbags message object (identical to rclpy's)."""
    return bytes(typestore().serialize_cdr(msg, msgtype))


def deserialize(data: bytes, msgtype: str):
    """Decode a rosbags message object from CDR bytes."""
    return typestore().deserialize_cdr(data, msgtype)


# ------------------------------------------------------------------------ writing
class BagTransitionWriter:
    """Streams transitions and episode events into one rosbag2 MCAP bag."""

    def __init__(self, bag_dir: Union[str, Path], trial_id: str = 'trial',
                 run_info: Optional[dict] = None):
        """Create the bag (the folder must not exist yet)."""
        from rosbags.rosbag2 import StoragePlugin, Writer
        bag_dir = Path(bag_dir)
        if bag_dir.exists():
            raise FileExistsError(f'bag {bag_dir} already exists; choose a new trial folder')
        bag_dir.parent.mkdir(parents=True, exist_ok=True)
        self.trial_id = trial_id
        self.path = bag_dir
        self.writer = Writer(bag_dir, version=BAG_VERSION, storage_plugin=StoragePlugin.MCAP)
        if run_info:
            self.writer.set_custom_data(RUN_INFO_KEY, json.dumps(run_info))
        self.writer.open()
        store = typestore()
        self.connections = {
            TRANSITION_TOPIC: self.writer.add_connection(TRANSITION_TOPIC, TRANSITION_TYPE,
                                                         typestore=store),
            EVENT_TOPIC: self.writer.add_connection(EVENT_TOPIC, EVENT_TYPE, typestore=store),
        }
        self.count = 0

    def write_raw(self, topic: str, data: bytes, timestamp_ns: int) -> None:
        """Write already-serialised CDR bytes (as received by a raw ROS subscription)."""
        self.writer.write(self.connections[topic], int(timestamp_ns), data)
        self.count += 1

    def write_transition(self, timestamp_ns: int, **fields) -> None:
        """Write one transition given the fields of ``make_transition``."""
        msg = make_transition(timestamp_ns, self.trial_id, **fields)
        self.write_raw(TRANSITION_TOPIC, serialize(msg, TRANSITION_TYPE), timestamp_ns)

    def write_event(self, timestamp_ns: int, **fields) -> None:
        """Write one episode event given the fields of ``make_event``."""
        msg = make_event(timestamp_ns, self.trial_id, **fields)
        self.write_raw(EVENT_TOPIC, serialize(msg, EVENT_TYPE), timestamp_ns)

    def close(self) -> None:
        """Finish the MCAP summary and write metadata.yaml."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def __enter__(self):
        """Context manager entry."""
        return self

    def __exit__(self, *exc):
        """Close on exit, even after an error, so the data written so far stays readable."""
        self.close()


class TrialBagRecorder:
    """
    One rosbag2 bag per trial, written in splits so that a killed recorder loses little.

    Messages go to a split bag under ``<bag>/.splits/``; ``flush()`` (called at every episode
    end) closes it, moves its ``.mcap`` into the bag folder and rewrites ``metadata.yaml``
    to list every closed split. A killed process therefore leaves a bag that opens with all
    data up to the last flush; only the open split (since the last episode end) is lost.
    """

    def __init__(self, bag_dir: Union[str, Path], trial_id: str = 'trial',
                 run_info: Optional[dict] = None):
        """Create (or continue, after a restart) the trial bag ``bag_dir``."""
        self.path = Path(bag_dir)
        self.trial_id = trial_id
        self.run_info = run_info
        self.path.mkdir(parents=True, exist_ok=True)
        self.splits = self.path / '.splits'
        if self.splits.exists():
            import shutil
            shutil.rmtree(self.splits)  # an unflushed split of a killed recorder
        self.index = len(list(self.path.glob(f'{trial_id}_*.mcap')))
        self.writer: Optional[BagTransitionWriter] = None

    def _open(self):
        self.writer = BagTransitionWriter(self.splits / f'{self.index:05d}', self.trial_id,
                                          self.run_info)

    def write_raw(self, topic: str, data: bytes, timestamp_ns: int) -> None:
        """Write serialised CDR bytes of a Transition or EpisodeEvent."""
        if self.writer is None:
            self._open()
        self.writer.write_raw(topic, data, timestamp_ns)

    def flush(self) -> None:
        """Close the open split and publish it in the bag's metadata."""
        import yaml
        if self.writer is None:
            return
        split_dir = self.writer.path
        self.writer.close()
        self.writer = None
        name = f'{self.trial_id}_{self.index:05d}.mcap'
        os.replace(next(split_dir.glob('*.mcap')), self.path / name)
        info = yaml.safe_load((split_dir / 'metadata.yaml').read_text())
        info = info['rosbag2_bagfile_information']
        info['relative_file_paths'] = [name]
        for f in info.get('files', []):
            f['path'] = name
        meta_path = self.path / 'metadata.yaml'
        if meta_path.is_file():
            merged = yaml.safe_load(meta_path.read_text())['rosbag2_bagfile_information']
            merged = _merge_metadata(merged, info)
        else:
            merged = info
        tmp = self.path / '.metadata.yaml.tmp'
        tmp.write_text(yaml.safe_dump({'rosbag2_bagfile_information': merged},
                                      sort_keys=False))
        os.replace(tmp, meta_path)
        import shutil
        shutil.rmtree(split_dir)
        self.index += 1

    def close(self) -> None:
        """Flush the last split."""
        self.flush()


def _merge_metadata(a: dict, b: dict) -> dict:
    start_a = a['starting_time']['nanoseconds_since_epoch']
    start_b = b['starting_time']['nanoseconds_since_epoch']
    end = max(start_a + a['duration']['nanoseconds'], start_b + b['duration']['nanoseconds'])
    start = min(start_a, start_b)
    topics = {t['topic_metadata']['name']: t for t in a['topics_with_message_count']}
    for t in b['topics_with_message_count']:
        name = t['topic_metadata']['name']
        if name in topics:
            topics[name]['message_count'] += t['message_count']
        else:
            topics[name] = t
    out = dict(a)
    out.update(starting_time={'nanoseconds_since_epoch': start},
               duration={'nanoseconds': end - start},
               message_count=a['message_count'] + b['message_count'],
               topics_with_message_count=list(topics.values()),
               relative_file_paths=a['relative_file_paths'] + b['relative_file_paths'],
               files=a.get('files', []) + b.get('files', []))
    return out


def write_bag(bag_dir: Union[str, Path], data, *, trial_id: str = 'pretrain',
              metadata: Optional[dict] = None, start_ns: Optional[int] = None,
              period_ns: int = 1_000_000) -> int:
    """
    Write every transition of a ReplayBuffer or an ``arrays()`` dict; returns the count.

    Timestamps are ``start_ns + i * period_ns`` (default: now, 1 ms apart) unless the
    arrays carry ``stamp_ns``.
    """
    arrays = data.arrays() if hasattr(data, 'arrays') else data
    n = len(arrays['reward'])
    start_ns = int(start_ns if start_ns is not None else time.time_ns())
    stamps = arrays.get('stamp_ns')
    with BagTransitionWriter(bag_dir, trial_id, metadata) as writer:
        for i in range(n):
            ns = int(stamps[i]) if stamps is not None else start_ns + i * period_ns
            writer.write_transition(
                ns, episode_id=_get(arrays, 'episode_id', i, 0),
                step_id=_get(arrays, 'step_id', i, 0), obs=arrays['obs'][i],
                action=arrays['action'][i], reward=arrays['reward'][i],
                terminated=arrays['terminated'][i], truncated=arrays['truncated'][i],
                next_obs=arrays['next_obs'][i],
                pixels=arrays['pixels'][i] if 'pixels' in arrays else None,
                next_pixels=arrays['next_pixels'][i] if 'next_pixels' in arrays else None)
    return n


def _get(arrays, key, i, default):
    return int(arrays[key][i]) if key in arrays else default


# ------------------------------------------------------------------------ reading
def _open_reader(path: Path):
    from rosbags.rosbag2 import Reader
    if not path.exists():
        raise BagFormatError(f'bag {path} does not exist')
    if not (path / 'metadata.yaml').is_file():
        raise BagFormatError(f'{path} is not a rosbag2 bag: no metadata.yaml (an unclosed '
                             'recording? see README "Recovering a bag")')
    try:
        reader = Reader(path)
        reader.open()
    except Exception as exc:  # noqa: BLE001 - rosbags raises several error types
        raise BagFormatError(f'bag {path} cannot be opened: {exc}') from exc
    return reader


def iter_messages(bag: Union[str, Path], topic: str, msgtype: str) -> Iterator:
    """Yield (timestamp_ns, message) of ``topic`` from one bag, checking its type."""
    path = Path(bag)
    reader = _open_reader(path)
    try:
        connections = [c for c in reader.connections if c.topic == topic]
        if not connections:
            found = sorted({c.topic for c in reader.connections})
            raise BagFormatError(f'bag {path} has no {topic} topic (topics: {found})')
        for conn in connections:
            if conn.msgtype != msgtype:
                raise BagFormatError(f'bag {path}: {topic} carries {conn.msgtype}, expected '
                                     f'{msgtype} (a foreign bag?)')
        try:
            for conn, ns, raw in reader.messages(connections=connections):
                yield ns, deserialize(raw, msgtype)
        except BagFormatError:
            raise
        except Exception as exc:  # noqa: BLE001 - truncated/corrupt chunks
            raise BagFormatError(f'bag {path} is corrupt or truncated: {exc}') from exc
    finally:
        reader.close()


def iter_events(bag: Union[str, Path]) -> Iterator:
    """Yield (timestamp_ns, EpisodeEvent) of one bag (none if it has no event topic)."""
    path = Path(bag)
    reader = _open_reader(path)
    has_events = any(c.topic == EVENT_TOPIC for c in reader.connections)
    reader.close()
    if has_events:
        yield from iter_messages(path, EVENT_TOPIC, EVENT_TYPE)


def run_info(bag: Union[str, Path]) -> dict:
    """Return the run description stored in a bag's custom_data ({} if none)."""
    import yaml
    path = Path(bag) / 'metadata.yaml'
    if not path.is_file():
        raise BagFormatError(f'{bag} is not a rosbag2 bag: no metadata.yaml')
    info = (yaml.safe_load(path.read_text()) or {}).get('rosbag2_bagfile_information', {})
    custom = info.get('custom_data') or {}
    return json.loads(custom[RUN_INFO_KEY]) if RUN_INFO_KEY in custom else {}


def read_bag_arrays(bags: Union[str, Path, Sequence[Union[str, Path]]]
                    ) -> Dict[str, np.ndarray]:
    """All transitions of one or more bags, in bag order then time order, as arrays."""
    paths = [bags] if isinstance(bags, (str, Path)) else list(bags)
    if not paths:
        raise BagFormatError('no bag given')
    rows: Dict[str, list] = {k: [] for k in ('obs', 'action', 'reward', 'next_obs',
                                             'terminated', 'truncated', 'episode_id',
                                             'step_id', 'stamp_ns', 'pixels', 'next_pixels')}
    dims = None
    for path in paths:
        for ns, msg in iter_messages(path, TRANSITION_TOPIC, TRANSITION_TYPE):
            pixels = _pixel_shape(msg.observation.images, path)
            next_pixels = _pixel_shape(msg.next_observation.images, path)
            if next_pixels != pixels:
                raise BagFormatError(
                    f'bag {path}: transition {msg.episode_id}/{msg.step_id} has pixels '
                    f'{pixels} but next pixels {next_pixels}')
            shape = (len(msg.observation.state), len(msg.action), pixels)
            if dims is None:
                dims = (shape, Path(path))
            elif shape != dims[0]:
                raise BagFormatError(f'bag {path} has obs/action/pixel sizes {shape} but '
                                     f'{dims[1]} has {dims[0]}: they cannot form one D0')
            rows['obs'].append(msg.observation.state)
            rows['next_obs'].append(msg.next_observation.state)
            rows['action'].append(msg.action)
            rows['reward'].append(msg.reward)
            rows['terminated'].append(msg.terminated)
            rows['truncated'].append(msg.truncated)
            rows['episode_id'].append(msg.episode_id)
            rows['step_id'].append(msg.step_id)
            rows['stamp_ns'].append(ns)
            if msg.observation.images:
                rows['pixels'].append(_stack_images(msg.observation.images))
                rows['next_pixels'].append(_stack_images(msg.next_observation.images))
    if dims is None:
        raise BagFormatError(f'bag(s) {[str(p) for p in paths]} hold no transitions')
    out = {
        'obs': np.asarray(rows['obs'], dtype=np.float32),
        'next_obs': np.asarray(rows['next_obs'], dtype=np.float32),
        'action': np.asarray(rows['action'], dtype=np.float32),
        'reward': np.asarray(rows['reward'], dtype=np.float32),
        'terminated': np.asarray(rows['terminated'], dtype=bool),
        'truncated': np.asarray(rows['truncated'], dtype=bool),
        'episode_id': np.asarray(rows['episode_id'], dtype=np.int64),
        'step_id': np.asarray(rows['step_id'], dtype=np.int64),
        'stamp_ns': np.asarray(rows['stamp_ns'], dtype=np.int64),
    }
    if rows['pixels']:
        out['pixels'] = np.stack(rows['pixels'])
        out['next_pixels'] = np.stack(rows['next_pixels'])
    return out


def _pixel_shape(images, path) -> tuple:
    """(C, H, W) of a message's mono8 images; () when it has none."""
    if not len(images):
        return ()
    encodings = sorted({str(im.encoding) for im in images} - {'mono8'})
    if encodings:
        raise BagFormatError(f'bag {path}: images with encoding {encodings}; transitions '
                             'store pixels as mono8 images')
    sizes = sorted({(int(im.height), int(im.width)) for im in images})
    if len(sizes) != 1:
        raise BagFormatError(f'bag {path}: the images of one observation have different '
                             f'sizes {sizes}; pixels must be C images of one (H, W)')
    return (len(images), *sizes[0])


def _stack_images(images: Iterable) -> np.ndarray:
    return np.stack([np.asarray(im.data, dtype=np.uint8).reshape(im.height, im.width)
                     for im in images])


def load_buffer_from_bags(bags, capacity: Optional[int] = None, device='cpu',
                          feature_dtype=None):
    """Build a ReplayBuffer holding every transition of ``bags`` (D0 of several bags)."""
    import torch
    from rl_replay.buffer import ReplayBuffer
    arrays = read_bag_arrays(bags)
    n = len(arrays['reward'])
    buffer = ReplayBuffer(capacity or n, arrays['obs'].shape[1], arrays['action'].shape[1],
                          device=device, feature_dtype=feature_dtype or torch.float32,
                          pixel_shape=arrays['pixels'].shape[1:] if 'pixels' in arrays
                          else None)
    arrays.pop('stamp_ns')
    buffer.load_arrays(arrays)
    return buffer


def list_bags(root: Union[str, Path]) -> List[Path]:
    """Bag folders (holding metadata.yaml) at or below ``root``, sorted."""
    root = Path(root)
    if (root / 'metadata.yaml').is_file():
        return [root]
    return sorted(p.parent for p in root.rglob('metadata.yaml'))


def bag_dir_size(path: Union[str, Path]) -> int:
    """Total bytes of a bag folder."""
    return sum(f.stat().st_size for f in Path(path).rglob('*') if f.is_file())


__all__ = ['BagFormatError', 'BagTransitionWriter', 'write_bag', 'read_bag_arrays',
           'load_buffer_from_bags', 'iter_events', 'iter_messages', 'run_info', 'list_bags',
           'bag_dir_size']
