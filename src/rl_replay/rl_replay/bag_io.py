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

``TrialBagRecorder`` (the replay node's writer) appends to a trial's bag across restarts,
salvages what a killed recorder left (``read_mcap_records`` reads unfinished MCAP files)
and never touches a trial folder it cannot append to (``trial_bag_problem``).
"""

import binascii
import json
import os
from pathlib import Path
import re
import shutil
import struct
import time
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

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


class RecorderWriteError(RuntimeError):
    """A split could not be written or published; its messages are kept for a retry."""


_MCAP_MAGIC = b'\x89MCAP0\r\n'


def _decompress(data: bytes, compression: str, size: int, crc: int) -> bytes:
    if compression:
        try:
            from rosbags.rosbag2.storage_mcap import DECOMPRESSORS
        except ImportError:
            DECOMPRESSORS = {}
        if compression not in DECOMPRESSORS:
            raise ValueError(f'unsupported chunk compression {compression!r}')
        data = DECOMPRESSORS[compression](data, size)
    if len(data) != size:
        raise ValueError(f'chunk holds {len(data)} bytes, its header says {size}')
    if crc and binascii.crc32(data) != crc:
        raise ValueError('chunk checksum mismatch')
    return data


def read_mcap_records(path: Union[str, Path]) -> Tuple[List[Tuple[str, int, bytes]], str]:
    """
    Salvage the messages of an MCAP file that may be unfinished (no summary, cut short).

    rosbags (like ``ros2 bag``) needs the summary at the end of the file, which a killed
    writer never writes. This reads the data section record by record, chunks included,
    and stops at the first record that is cut short or damaged. Returns ``([(topic,
    log_time_ns, cdr_bytes), ...], problem)``; ``problem`` is ``''`` when the file was
    read to its end (or to its summary) and otherwise says where and why reading stopped.
    """
    data = Path(path).read_bytes()
    if not data:
        return [], ''
    if not data.startswith(_MCAP_MAGIC):
        if _MCAP_MAGIC.startswith(data):
            return [], f'{path}: cut short inside the MCAP magic ({len(data)} bytes)'
        return [], f'{path}: not an MCAP file (bad magic)'
    channels: Dict[int, str] = {}
    messages: List[Tuple[str, int, bytes]] = []

    def parse(buf: memoryview, pos: int, nested: bool) -> Tuple[int, str, bool]:
        end = len(buf)
        while pos < end:
            where = f'byte {pos}' + (' of a chunk' if nested else '')
            if pos + 9 > end:
                return pos, f'record header cut short at {where}', False
            op = buf[pos]
            (length,) = struct.unpack_from('<Q', buf, pos + 1)
            body_start, body_end = pos + 9, pos + 9 + length
            if body_end > end:
                return pos, (f'record 0x{op:02x} cut short at {where}: {length} bytes '
                             f'announced, {end - body_start} present'), False
            body = buf[body_start:body_end]
            try:
                if op == 0x04:
                    (cid,) = struct.unpack_from('<H', body, 0)
                    (n,) = struct.unpack_from('<I', body, 4)
                    channels[cid] = bytes(body[8:8 + n]).decode()
                elif op == 0x05:
                    cid, _, log_time, _ = struct.unpack_from('<HIQQ', body, 0)
                    if cid not in channels:
                        return pos, f'message of unknown channel {cid} at {where}', False
                    messages.append((channels[cid], log_time, bytes(body[22:])))
                elif op == 0x06 and not nested:
                    _, _, size, crc = struct.unpack_from('<QQQI', body, 0)
                    (n,) = struct.unpack_from('<I', body, 28)
                    compression = bytes(body[32:32 + n]).decode()
                    (records,) = struct.unpack_from('<Q', body, 32 + n)
                    offset = 40 + n
                    if offset + records > len(body):
                        raise ValueError('records exceed the chunk')
                    inner = _decompress(bytes(body[offset:offset + records]), compression,
                                        size, crc)
                    _, problem, _ = parse(memoryview(inner), 0, True)
                    if problem:
                        return pos, f'damaged chunk at {where}: {problem}', False
                elif op in (0x02, 0x0F) and not nested:
                    return pos, '', True  # footer or data end: the summary follows
            except (struct.error, ValueError, UnicodeDecodeError) as exc:
                return pos, f'damaged record 0x{op:02x} at {where}: {exc}', False
            pos = body_end
        return pos, '', True

    _, problem, _ = parse(memoryview(data), len(_MCAP_MAGIC), False)
    return messages, (f'{path}: {problem}' if problem else '')


def _split_pattern(trial_id: str):
    return re.compile(rf'^{re.escape(trial_id)}_(\d+)\.mcap(\.partial)?$')


def trial_bag_problem(path: Union[str, Path], trial_id: str) -> str:
    """
    Say why ``TrialBagRecorder`` may not append to ``path`` (``''``: it may, or it is new).

    Appendable: a folder holding only what the recorder writes (``metadata.yaml``,
    ``<trial>_NNNNN.mcap[.partial]``, ``.splits/NNNNN/``), whose metadata.yaml describes
    an MCAP bag rosbags opens, every file it lists present, and no split file that is
    neither listed nor waiting in ``.splits`` to be listed.
    """
    import yaml
    path = Path(path)
    if not path.exists():
        return ''
    if not path.is_dir():
        return f'{path} exists and is not a folder'
    pattern = _split_pattern(trial_id)
    entries = sorted(path.iterdir())
    foreign = [p.name for p in entries
               if p.name not in ('metadata.yaml', '.metadata.yaml.tmp', '.splits')
               and not pattern.match(p.name)]
    if foreign:
        return f'{path} holds files this recorder does not write: {foreign[:5]}'
    splits = path / '.splits'
    pending = set()
    if splits.exists():
        if not splits.is_dir():
            return f'{splits} is not a folder'
        odd = [p.name for p in splits.iterdir() if not (p.is_dir() and p.name.isdigit())]
        if odd:
            return f'{splits} holds entries that are not split folders: {sorted(odd)[:5]}'
        pending = {f'{trial_id}_{int(p.name):05d}.mcap' for p in splits.iterdir()
                   if (p / 'metadata.yaml').is_file()}
    files = [p.name for p in entries
             if pattern.match(p.name) and not p.name.endswith('.partial')]
    meta = path / 'metadata.yaml'
    if not meta.exists():
        orphans = sorted(set(files) - pending)
        if orphans:
            return f'{path} holds MCAP files {orphans[:5]} but no metadata.yaml listing them'
        return ''
    try:
        info = yaml.safe_load(meta.read_bytes().decode())
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        text = ' '.join(line.strip() for line in str(exc).splitlines() if line.strip())
        return f'{meta} is not readable YAML ({text or type(exc).__name__})'
    info = info.get('rosbag2_bagfile_information') if isinstance(info, dict) else None
    if not isinstance(info, dict):
        return f'{meta} has no rosbag2_bagfile_information mapping'
    if info.get('storage_identifier') != 'mcap':
        return (f"{meta}: storage_identifier is {info.get('storage_identifier')!r}, "
                "expected 'mcap'")
    try:
        listed = list(info['relative_file_paths'])
        int(info['starting_time']['nanoseconds_since_epoch'])
        int(info['duration']['nanoseconds'])
        int(info['message_count'])
        for t in info['topics_with_message_count']:
            str(t['topic_metadata']['name'])
            int(t['message_count'])
        list(info.get('files') or [])
    except (KeyError, TypeError, ValueError) as exc:
        return f'{meta} is missing or has a malformed field ({type(exc).__name__}: {exc})'
    missing = [name for name in listed if not (path / str(name)).is_file()]
    if missing:
        return f'{meta} lists {missing[:5]}, which are missing'
    orphans = sorted(set(files) - set(listed) - pending)
    if orphans:
        return f'{path} holds MCAP files {orphans[:5]} that {meta.name} does not list'
    try:
        from rosbags.rosbag2 import Reader
        with Reader(path):
            pass
    except Exception as exc:  # noqa: BLE001 - rosbags raises several error types
        return f'bag {path} cannot be opened: {exc}'
    return ''


class TrialBagRecorder:
    """
    One rosbag2 bag per trial, written in splits; a restart appends, faults lose nothing.

    Messages go to a split bag under ``<bag>/.splits/NNNNN/``. ``flush()`` (called at every
    episode end) closes it, moves its MCAP file into the bag folder as
    ``<trial>_NNNNN.mcap`` and atomically rewrites ``metadata.yaml`` to list every split.
    ``sync()`` (the node calls it every second) writes the open split's messages to the
    file as a complete MCAP chunk, so that a killed process leaves them on disk.

    **Restart** (the folder holds this trial's bag): the recorder appends to it, never
    deleting what is there. What a killed recorder left in ``.splits`` is taken in first:

    - a split that was closed but not yet listed (killed while publishing it) is listed;
    - the open split (no MCAP summary, so rosbags cannot open it) is salvaged record by
      record (``read_mcap_records``): its messages are written to a new, complete split.
      If the file ended in a record cut short, the original file is kept, unlisted, as
      ``<trial>_NNNNN.mcap.partial``; a file that was read to its end is removed once its
      messages are in the new split (an empty one: killed before anything reached disk).

    ``metadata.yaml`` is then rewritten to cover every split; ``notes`` says what was done.

    **Garbage** (policy: never touch it, record beside it). If the folder cannot be
    appended to (``trial_bag_problem``: it is a file, its metadata.yaml is not YAML or not
    an MCAP bag description, a file it lists is missing or rosbags cannot open the bag,
    or it holds files this recorder does not write), nothing in it is read further,
    changed or deleted: the recorder records to the first folder ``<bag>_2``,
    ``<bag>_3``, ... beside it that is new or appendable (a restart finds the same one),
    and ``diverted_from`` holds ``(original folder, problem)`` for the caller to report.
    With ``divert=False`` it raises ``BagFormatError`` naming the problem instead.

    **Write failures** (disk full, folder removed) raise ``RecorderWriteError``. Every
    message of the open split is also kept in memory until the split is closed; after a
    failure, further messages are only kept, and the next ``flush()`` writes them all to
    a fresh split (raising again while the cause persists), so nothing is dropped.
    """

    def __init__(self, bag_dir: Union[str, Path], trial_id: str = 'trial',
                 run_info: Optional[dict] = None, divert: bool = True):
        """Create the trial bag ``bag_dir``, or append to it (see the class docstring)."""
        self.trial_id = trial_id
        self.run_info = run_info
        self.diverted_from: Optional[Tuple[Path, str]] = None
        self.notes: List[str] = []
        path = Path(bag_dir)
        problem = trial_bag_problem(path, trial_id)
        if problem:
            if not divert:
                raise BagFormatError(f'cannot append to {path}: {problem}')
            self.diverted_from = (path, problem)
            for n in range(2, 1000):
                candidate = path.with_name(f'{path.name}_{n}')
                if not trial_bag_problem(candidate, trial_id):
                    path = candidate
                    break
            else:
                raise BagFormatError(f'cannot append to {path} ({problem}) and no folder '
                                     f'{path.name}_2 .. _999 beside it is free')
        self.path = path
        self.splits = path / '.splits'
        self.existing_files = self._listed()
        self.path.mkdir(parents=True, exist_ok=True)
        self.writer: Optional[BagTransitionWriter] = None
        self.retained: List[Tuple[str, bytes, int]] = []  # the open split's messages
        self.broken: List[Path] = []   # splits whose writer failed (messages in retained)
        self.closed: List[Path] = []   # closed splits not yet in metadata.yaml
        self.failed = False
        self.index = self._next_index()
        self._recover()

    # -------------------------------------------------------------------- state on disk
    def _listed(self) -> List[str]:
        import yaml
        meta = self.path / 'metadata.yaml'
        if not meta.is_file():
            return []
        info = yaml.safe_load(meta.read_text())['rosbag2_bagfile_information']
        return [str(name) for name in info['relative_file_paths']]

    def _next_index(self) -> int:
        pattern = _split_pattern(self.trial_id)
        used = [int(m.group(1)) for p in self.path.iterdir() if (m := pattern.match(p.name))]
        used += [int(m.group(1)) for name in self.existing_files
                 if (m := pattern.match(name))]
        if self.splits.is_dir():
            used += [int(p.name) for p in self.splits.iterdir() if p.name.isdigit()]
        return max(used, default=-1) + 1

    def _recover(self) -> None:
        """Take in what a killed recorder left in ``.splits`` (see the class docstring)."""
        tmp = self.path / '.metadata.yaml.tmp'
        if tmp.is_file():
            tmp.unlink()  # an unfinished copy of metadata.yaml; the split it covers is below
        if not self.splits.is_dir():
            return
        for split in sorted(self.splits.iterdir(), key=lambda p: int(p.name)):
            if (split / 'metadata.yaml').is_file():
                self.closed.append(split)
                self.notes.append(f'split {split.name} was closed but not listed (the '
                                  'recorder was killed while publishing it): listed now')
            else:
                self._salvage(split)
        self.flush()

    def _salvage(self, split: Path) -> None:
        recovered = 0
        kept = []
        for mcap in sorted(split.glob('*.mcap')):
            messages, problem = read_mcap_records(mcap)
            ours = [m for m in messages if m[0] in (TRANSITION_TOPIC, EVENT_TOPIC)]
            for topic, ns, data in ours:
                self.write_raw(topic, data, ns)
            recovered += len(ours)
            if problem or len(ours) < len(messages):
                keep = self.path / f'{self.trial_id}_{int(split.name):05d}.mcap.partial'
                os.replace(mcap, keep)
                kept.append(f'{keep.name} ({problem or "messages of other topics"})')
        if recovered:
            self.flush()  # the salvaged messages now form a complete, listed split
        note = f'open split {split.name} of a killed recorder: '
        if recovered:
            note += f'{recovered} messages recovered into split {self.index - 1:05d}'
        else:
            note += 'no complete message had reached the disk'
        if kept:
            note += f'; the unreadable rest is kept in {", ".join(kept)}'
        self.notes.append(note)
        shutil.rmtree(split)

    # -------------------------------------------------------------------- writing
    def write_raw(self, topic: str, data: bytes, timestamp_ns: int) -> None:
        """Write serialised CDR bytes of a Transition or EpisodeEvent (kept until flushed)."""
        self.retained.append((topic, bytes(data), int(timestamp_ns)))
        if self.failed:
            return  # kept; the next flush() writes them all to a fresh split
        if self.writer is None:
            self._open()
            return
        try:
            self.writer.write_raw(topic, data, timestamp_ns)
        except Exception as exc:
            self._abandon()
            raise RecorderWriteError(f'writing to split {self.splits} failed: {exc}') from exc

    def _open(self) -> None:
        """Open a new split and write every retained message to it."""
        index = self.index
        self.index += 1
        try:
            self.writer = BagTransitionWriter(self.splits / f'{index:05d}', self.trial_id,
                                              self.run_info)
            for topic, data, ns in self.retained:
                self.writer.write_raw(topic, data, ns)
        except Exception as exc:
            self._abandon(self.splits / f'{index:05d}')
            raise RecorderWriteError(f'cannot write split {self.splits / f"{index:05d}"}: '
                                     f'{exc}') from exc

    def _abandon(self, path: Optional[Path] = None) -> None:
        """Give up the open split after a failure; its messages stay in ``retained``."""
        self.failed = True
        writer, self.writer = self.writer, None
        if writer is not None:
            path = writer.path
            storage = getattr(writer.writer, 'storage', None)
            try:
                storage.bio.close()
            except Exception:  # noqa: BLE001 - best effort: the file may be gone
                pass
        if path is not None and path not in self.broken:
            self.broken.append(path)

    def sync(self) -> bool:
        """
        Write the open split's buffered messages to its file as a complete MCAP chunk.

        rosbags keeps up to 1 MiB of messages in memory before writing a chunk; a killed
        recorder would lose them. Returns False when this rosbags version offers no way
        to do it (nothing is changed then).
        """
        if self.writer is None:
            return True
        storage = getattr(self.writer.writer, 'storage', None)
        chunk = getattr(storage, 'chunk', None)
        if not (hasattr(storage, 'close_chunk') and hasattr(storage, 'bio')
                and hasattr(chunk, 'msgs')):
            return False
        try:
            if any(chunk.msgs.values()):
                storage.close_chunk()
            storage.bio.flush()
        except Exception as exc:
            self._abandon()
            raise RecorderWriteError(f'writing to split {self.splits} failed: {exc}') from exc
        return True

    def flush(self) -> None:
        """Close the open split (or rewrite a failed one's messages) and list it in the bag."""
        if self.failed and self.retained:
            self.failed = False
            self._open()
        self.failed = False
        if self.writer is not None:
            writer, self.writer = self.writer, None
            try:
                writer.close()
            except Exception as exc:
                self.writer = writer
                self._abandon()
                raise RecorderWriteError(f'closing split {writer.path} failed: {exc}') from exc
            self.closed.append(writer.path)
            self.retained = []
            for path in self.broken:  # their messages are in the split just closed
                shutil.rmtree(path, ignore_errors=True)
            self.broken = []
        while self.closed:
            try:
                self._publish(self.closed[0])
            except Exception as exc:
                self.failed = True
                raise RecorderWriteError(f'listing split {self.closed[0]} in '
                                         f'{self.path / "metadata.yaml"} failed: {exc}') from exc
            self.closed.pop(0)

    def _publish(self, split: Path) -> None:
        """Move a closed split's MCAP file into the bag and list it in metadata.yaml."""
        import yaml
        name = f'{self.trial_id}_{int(split.name):05d}.mcap'
        target = self.path / name
        sources = sorted(split.glob('*.mcap'))
        if sources:
            os.replace(sources[0], target)
        elif not target.is_file():
            raise RecorderWriteError(f'split {split} has no MCAP file')
        info = yaml.safe_load((split / 'metadata.yaml').read_text())
        info = info['rosbag2_bagfile_information']
        info['relative_file_paths'] = [name]
        for f in info.get('files') or []:
            f['path'] = name
        meta_path = self.path / 'metadata.yaml'
        if meta_path.is_file():
            merged = yaml.safe_load(meta_path.read_text())['rosbag2_bagfile_information']
            if name not in merged['relative_file_paths']:
                merged = _merge_metadata(merged, info)
        else:
            merged = info
        tmp = self.path / '.metadata.yaml.tmp'
        with open(tmp, 'w') as f:
            f.write(yaml.safe_dump({'rosbag2_bagfile_information': merged}, sort_keys=False))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, meta_path)
        shutil.rmtree(split, ignore_errors=True)

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


def scan_last_episode_id(folder: Union[str, Path]) -> int:
    """
    Return the highest episode id of the events in the MCAP files of ``folder`` (0: none).

    Reads the files record by record (``read_mcap_records``), without metadata.yaml, so it
    works on a damaged or unfinished bag too; unreadable files are skipped.
    """
    last = 0
    for path in sorted(Path(folder).glob('*.mcap*')):
        try:
            messages, _ = read_mcap_records(path)
        except OSError:
            continue
        for topic, _, data in messages:
            if topic == EVENT_TOPIC:
                try:
                    last = max(last, int(deserialize(data, EVENT_TYPE).episode_id))
                except Exception:  # noqa: BLE001 - a damaged message: skip it
                    pass
    return last


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
           'bag_dir_size', 'TrialBagRecorder', 'RecorderWriteError', 'read_mcap_records',
           'trial_bag_problem', 'scan_last_episode_id']
