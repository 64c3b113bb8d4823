# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
TrialBagRecorder under faults: a restart appends, a kill loses nothing on disk, garbage stays.

- Killed (the object abandoned without close, or a real SIGKILL) and restarted on the same
  folder: every complete split stays, the open split is salvaged record by record, new
  episodes are appended and metadata.yaml covers all splits.
- A split cut short mid-record keeps its unreadable bytes beside the bag (``.partial``).
- A corrupt metadata.yaml (or other garbage) is never touched: the trial goes to
  ``<trial>_2`` and the problem names the file.
- A write failure keeps every message and a later flush writes them.
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from rl_replay.bag_io import (BagFormatError, EVENT_TOPIC, EVENT_TYPE, make_event,
                              make_transition, read_bag_arrays, read_mcap_records,
                              RecorderWriteError, scan_last_episode_id, serialize,
                              TRANSITION_TOPIC, TRANSITION_TYPE, TrialBagRecorder)
import yaml

STEPS = 5
TRIAL = 'trial'


def transition(episode, step):
    ns = episode * 1_000_000_000 + step * 1_000_000 + 1
    obs = np.full(4, episode + step / 10, np.float32)
    return serialize(make_transition(ns, TRIAL, episode, step, obs, [0.1, -0.1], -1.0,
                                     False, step == STEPS - 1, obs + 1), TRANSITION_TYPE), ns


def event(episode, kind, ns):
    return serialize(make_event(ns, TRIAL, episode, kind, reason='time_limit' if kind else '',
                                num_steps=STEPS if kind else 0), EVENT_TYPE)


def write_steps(recorder, episode, steps, start=True):
    """Write a STARTED event (when ``start``) and transitions ``steps`` of an episode."""
    if start:
        recorder.write_raw(EVENT_TOPIC, event(episode, 0, episode * 1_000_000_000),
                           episode * 1_000_000_000)
    for step in steps:
        data, ns = transition(episode, step)
        recorder.write_raw(TRANSITION_TOPIC, data, ns)


def end_episode(recorder, episode):
    ns = episode * 1_000_000_000 + 999_000_000
    recorder.write_raw(EVENT_TOPIC, event(episode, 1, ns), ns)
    recorder.flush()


def write_episode(recorder, episode):
    write_steps(recorder, episode, range(STEPS))
    end_episode(recorder, episode)


def metadata(bag):
    return yaml.safe_load((bag / 'metadata.yaml').read_text())['rosbag2_bagfile_information']


def check_complete(bag, episodes):
    """Check that the bag holds every step of ``episodes`` once and lists every split."""
    arrays = read_bag_arrays(bag)
    pairs = sorted(zip(arrays['episode_id'].tolist(), arrays['step_id'].tolist()))
    assert pairs == [(e, s) for e in episodes for s in range(STEPS)]
    info = metadata(bag)
    files = sorted(p.name for p in bag.glob(f'{TRIAL}_*.mcap'))
    assert sorted(info['relative_file_paths']) == files
    assert sorted(f['path'] for f in info['files']) == files
    counts = {t['topic_metadata']['name']: t['message_count']
              for t in info['topics_with_message_count']}
    assert counts[TRANSITION_TOPIC] == len(episodes) * STEPS
    assert counts[EVENT_TOPIC] == 2 * len(episodes)
    assert info['message_count'] == sum(counts.values())
    from rosbags.rosbag2 import Reader
    with Reader(bag) as reader:
        assert reader.message_count == info['message_count']


@pytest.mark.parametrize('synced', [True, False])
def test_restart_after_a_kill_appends_and_keeps_every_split(tmp_path, synced):
    bag = tmp_path / TRIAL
    killed = TrialBagRecorder(bag, TRIAL)
    write_episode(killed, 1)
    write_episode(killed, 2)
    write_steps(killed, 3, range(3))  # the kill comes in the middle of episode 3
    if synced:
        assert killed.sync()  # what the node does every second
    # Abandoned without close, as SIGKILL leaves it (the reference keeps Python from
    # closing its file behind the test's back).
    restarted = TrialBagRecorder(bag, TRIAL)
    assert restarted.path == bag and restarted.diverted_from is None
    if synced:
        assert 'open split 00002 of a killed recorder: 4 messages recovered' in \
            restarted.notes[0], restarted.notes
        write_steps(restarted, 3, range(3, STEPS), start=False)
    else:
        assert 'no complete message had reached the disk' in restarted.notes[0]
        write_steps(restarted, 3, range(STEPS))  # episode 3 again, from the start
    end_episode(restarted, 3)
    restarted.close()
    check_complete(bag, [1, 2, 3])
    assert not (bag / '.splits').exists() or not any((bag / '.splits').iterdir())
    assert not list(bag.glob('*.partial'))  # everything on disk was read
    del killed


KILL_SCRIPT = """
import os, signal, sys
sys.path.insert(0, {test_dir!r})
from test_recorder import TrialBagRecorder, write_episode, write_steps
rec = TrialBagRecorder({bag!r}, 'trial')
write_episode(rec, 1)
write_episode(rec, 2)
write_steps(rec, 3, range(3))
rec.sync()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_sigkilled_recorder_process_loses_nothing_that_was_synced(tmp_path):
    bag = tmp_path / TRIAL
    script = KILL_SCRIPT.format(test_dir=str(pathlib.Path(__file__).parent), bag=str(bag))
    proc = subprocess.run([sys.executable, '-c', script], capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()
    assert (bag / '.splits' / '00002').is_dir()  # the open split, without summary
    from rosbags.rosbag2 import Reader
    with Reader(bag) as reader:  # complete splits were readable all along
        assert reader.message_count == 2 * (STEPS + 2)
    restarted = TrialBagRecorder(bag, TRIAL)
    assert '4 messages recovered' in restarted.notes[0]
    write_steps(restarted, 3, range(3, STEPS), start=False)
    end_episode(restarted, 3)
    restarted.close()
    check_complete(bag, [1, 2, 3])


def test_split_cut_short_is_salvaged_and_its_bytes_kept(tmp_path):
    bag = tmp_path / TRIAL
    killed = TrialBagRecorder(bag, TRIAL)
    write_episode(killed, 1)
    write_steps(killed, 2, range(2))
    killed.sync()  # chunk 1: started + 2 steps
    split = next((bag / '.splits').glob('*/*.mcap'))
    first = split.stat().st_size
    write_steps(killed, 2, range(2, 4), start=False)
    killed.sync()  # chunk 2: steps 2, 3
    size = first + (split.stat().st_size - first) // 2
    with open(split, 'r+b') as f:  # the kill came while chunk 2 was being written
        f.truncate(size)
    restarted = TrialBagRecorder(bag, TRIAL)
    note = restarted.notes[0]
    assert '3 messages recovered' in note and 'trial_00001.mcap.partial' in note, note
    assert 'cut short' in note
    partial = bag / 'trial_00001.mcap.partial'
    assert partial.stat().st_size == size  # the raw bytes are kept, never deleted
    write_steps(restarted, 2, range(2, STEPS), start=False)
    end_episode(restarted, 2)
    restarted.close()
    check_complete(bag, [1, 2])
    # The kept file is no part of the bag; another restart leaves it alone.
    again = TrialBagRecorder(bag, TRIAL)
    assert again.path == bag and not again.notes and partial.is_file()
    write_episode(again, 3)
    check_complete(bag, [1, 2, 3])
    assert metadata(bag)['relative_file_paths'] == [
        'trial_00000.mcap', 'trial_00002.mcap', 'trial_00003.mcap', 'trial_00004.mcap']


@pytest.mark.parametrize('moved', [False, True])
def test_split_closed_but_not_listed_is_listed_on_restart(tmp_path, moved):
    bag = tmp_path / TRIAL
    killed = TrialBagRecorder(bag, TRIAL)
    write_episode(killed, 1)
    write_steps(killed, 2, range(STEPS))
    end = 2 * 1_000_000_000 + 999_000_000
    killed.write_raw(EVENT_TOPIC, event(2, 1, end), end)
    killed.writer.close()  # closed; killed before its file was listed in metadata.yaml
    if moved:  # ... or killed after moving the file, before rewriting metadata.yaml
        os.replace(bag / '.splits' / '00001' / '00001.mcap', bag / 'trial_00001.mcap')
    restarted = TrialBagRecorder(bag, TRIAL)
    assert 'split 00001 was closed but not listed' in restarted.notes[0]
    write_episode(restarted, 3)
    check_complete(bag, [1, 2, 3])


@pytest.mark.parametrize('garbage', ['yaml', 'not_a_bag', 'missing_split', 'foreign_file',
                                     'a_file'])
def test_garbage_in_the_trial_folder_is_left_alone_and_named(tmp_path, garbage):
    bag = tmp_path / TRIAL
    first = TrialBagRecorder(bag, TRIAL)
    write_episode(first, 1)
    meta = bag / 'metadata.yaml'
    if garbage == 'yaml':
        meta.write_bytes(b'rosbag2_bagfile_information: [unclosed\n\x00')
        expected = f'{meta} is not readable YAML'
    elif garbage == 'not_a_bag':
        meta.write_text('hello: world\n')
        expected = f'{meta} has no rosbag2_bagfile_information mapping'
    elif garbage == 'missing_split':
        (bag / 'trial_00000.mcap').unlink()
        expected = f"{meta} lists ['trial_00000.mcap'], which are missing"
    elif garbage == 'foreign_file':
        (bag / 'notes.db3').write_text('x')
        expected = "holds files this recorder does not write: ['notes.db3']"
    else:
        import shutil
        shutil.rmtree(bag)
        bag.write_text('not a folder')
        expected = f'{bag} exists and is not a folder'
    before = {p: p.read_bytes() for p in ([bag] if bag.is_file() else bag.rglob('*'))
              if p.is_file()}
    with pytest.raises(BagFormatError, match='cannot append to'):
        TrialBagRecorder(bag, TRIAL, divert=False)
    diverted = TrialBagRecorder(bag, TRIAL)
    assert diverted.path == tmp_path / f'{TRIAL}_2'
    assert diverted.diverted_from[0] == bag
    assert expected in diverted.diverted_from[1], diverted.diverted_from[1]
    write_episode(diverted, 2)
    diverted.close()
    check_complete(diverted.path, [2])
    after = {p: p.read_bytes() for p in ([bag] if bag.is_file() else bag.rglob('*'))
             if p.is_file()}
    assert after == before  # not a byte changed, nothing deleted
    # A restart finds the same folder beside it and appends there.
    again = TrialBagRecorder(bag, TRIAL)
    assert again.path == diverted.path
    write_episode(again, 3)
    check_complete(diverted.path, [2, 3])
    if garbage in ('yaml', 'not_a_bag', 'foreign_file'):
        # The highest episode id is still found (the node's heartbeat carries it).
        assert scan_last_episode_id(bag) == 1


def test_write_failure_keeps_every_message_until_a_flush_succeeds(tmp_path):
    import shutil
    bag = tmp_path / TRIAL
    recorder = TrialBagRecorder(bag, TRIAL)
    write_episode(recorder, 1)
    write_steps(recorder, 2, range(2))
    shutil.rmtree(bag / '.splits')  # the split's folder disappears under the writer ...
    (bag / '.splits').write_text('')  # ... and cannot be created again
    write_steps(recorder, 2, range(2, STEPS), start=False)
    with pytest.raises(RecorderWriteError, match='closing split'):
        end_episode(recorder, 2)
    write_steps(recorder, 3, range(STEPS))  # kept while writing fails
    with pytest.raises(RecorderWriteError, match='cannot write split'):
        recorder.flush()
    (bag / '.splits').unlink()  # the cause is fixed
    end_episode(recorder, 3)
    recorder.close()
    check_complete(bag, [1, 2, 3])


def test_read_mcap_records_matches_rosbags_on_a_complete_file(tmp_path):
    bag = tmp_path / TRIAL
    recorder = TrialBagRecorder(bag, TRIAL)
    write_episode(recorder, 1)
    messages, problem = read_mcap_records(bag / 'trial_00000.mcap')
    assert problem == ''
    from rosbags.rosbag2 import Reader
    with Reader(bag) as reader:
        expected = [(c.topic, ns, bytes(raw)) for c, ns, raw in reader.messages()]
    assert sorted(messages) == sorted(expected)
    (tmp_path / 'empty.mcap').touch()  # killed before anything reached the disk
    assert read_mcap_records(tmp_path / 'empty.mcap') == ([], '')
    (tmp_path / 'junk.mcap').write_bytes(b'garbage!')
    assert 'not an MCAP file' in read_mcap_records(tmp_path / 'junk.mcap')[1]
