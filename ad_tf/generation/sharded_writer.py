"""A TFDS split written as a fixed number of shards, each exactly once and atomically.

Shard i is `ad_histories-train.tfrecord-0000i-of-0000n` in the TFDS layout. It is written under a
temporary name and renamed only when complete, after a small record of its length, size and
SHA-256, so a crash leaves either a whole shard or none. `bad_shards` compares the files with
their records: a shard truncated, extended or corrupted since it was written (a disk fault, a
partial copy) is found, named and, with `discard_bad_shards`, removed so that it is written
again. Re-running skips complete shards; separate processes can write disjoint shards of one
dataset. When every shard exists, `finalize` writes the TFDS metadata
(dataset_info.json last, atomically), which is what makes the dataset loadable.

Any number of processes may write at once (task shards, Beam workers, a Beam retry of the same
shard): every temporary file has a name of its own, and what two writers of one shard or of the
metadata put in place is the same bytes. Files go through tf.io.gfile, so the root directory may
be on a shared file system such as gs:// when the workers are remote.
"""

import hashlib
import json
import os
from typing import Dict, Iterable, List, Optional, Sequence
import uuid

from absl import logging

from tensorflow_datasets.core import naming
from tensorflow_datasets.core import splits as splits_lib
import tensorflow as tf
import tensorflow_datasets as tfds

from ad_tf.generation import example_encoding

SPLIT = 'train'
_PROGRESS_DIR = 'shard_records'


class ShardedWriter:
  """Writes the 'train' split of one dataset version directory shard by shard."""

  def __init__(self, info: tfds.core.DatasetInfo, version_dir: str, num_shards: int):
    self._info = info
    self._version_dir = version_dir
    self.version_dir = version_dir
    self._num_shards = num_shards
    self._template = naming.ShardedFileTemplate(
        data_dir=version_dir, dataset_name=info.name, split=SPLIT, filetype_suffix='tfrecord')
    self._encoder = example_encoding.ExampleEncoder(info.features)
    tf.io.gfile.makedirs(os.path.join(version_dir, _PROGRESS_DIR))

  def _shard_path(self, shard: int) -> str:
    return os.fspath(self._template.sharded_filepath(shard_index=shard,
                                                     num_shards=self._num_shards))

  def _record_path(self, shard: int) -> str:
    return os.path.join(self._version_dir, _PROGRESS_DIR, f'{shard:05d}.json')

  def is_done(self, shard: int) -> bool:
    return (tf.io.gfile.exists(self._shard_path(shard))
            and tf.io.gfile.exists(self._record_path(shard)))

  def num_done(self) -> int:
    return sum(self.is_done(shard) for shard in range(self._num_shards))

  def write_shard(self, shard: int, examples: Iterable[dict]) -> int:
    """Encodes and writes `examples` as shard `shard`; returns the number of examples."""
    path = self._shard_path(shard)
    temporary = _temporary_name(path)
    num_examples = num_bytes = 0
    with tf.io.TFRecordWriter(temporary) as writer:
      for example in examples:
        serialized = self._encoder.encode(example)
        writer.write(serialized)
        num_examples += 1
        num_bytes += len(serialized)
    file_bytes, digest = file_digest(temporary)
    _write_json_atomically(self._record_path(shard),
                           {'num_examples': num_examples, 'num_bytes': num_bytes,
                            'file_bytes': file_bytes, 'sha256': digest})
    tf.io.gfile.rename(temporary, path, overwrite=True)
    return num_examples

  def shard_problem(self, shard: int) -> Optional[str]:
    """What is wrong with done shard `shard` against its record, or None (also for shards not
    done, and for records of older ad_tf versions, which hold no size or digest)."""
    if not self.is_done(shard):
      return None
    return _problem(self._shard_path(shard), _read_json(self._record_path(shard)))

  def bad_shards(self, shards: Optional[Sequence[int]] = None) -> Dict[int, str]:
    """{shard: problem} over `shards` (default: all)."""
    shards = range(self._num_shards) if shards is None else shards
    problems = {shard: self.shard_problem(shard) for shard in shards}
    return {shard: problem for shard, problem in problems.items() if problem}

  def discard_bad_shards(self, shards: Optional[Sequence[int]] = None) -> Dict[int, str]:
    """Removes every bad shard of `shards` (and its record, and the dataset's completion mark,
    dataset_info.json, if any was bad), so the next writing pass writes them again."""
    bad = self.bad_shards(shards)
    for shard, problem in bad.items():
      logging.warning('%s; it is removed and will be generated again.', problem)
      tf.io.gfile.remove(self._record_path(shard))
      tf.io.gfile.remove(self._shard_path(shard))
    info_path = os.path.join(self._version_dir, 'dataset_info.json')
    if bad and tf.io.gfile.exists(info_path):
      tf.io.gfile.remove(info_path)
    return bad

  def finalize(self) -> bool:
    """Writes the TFDS metadata if every shard is done; returns whether the dataset is complete."""
    if self.num_done() < self._num_shards:
      return False
    # Every shard is in place: a temporary left now is a killed writer's (or a redundant Beam
    # retry's, whose rename then fails and is retried into a skip).
    for pattern in ('*.tfrecord-*.tmp-*', os.path.join(_PROGRESS_DIR, '*.tmp-*')):
      for leftover in tf.io.gfile.glob(os.path.join(self._version_dir, pattern)):
        tf.io.gfile.remove(leftover)
    records = [_read_json(self._record_path(s)) for s in range(self._num_shards)]
    self._info.set_file_format('tfrecord', override=True)
    self._info.set_splits(splits_lib.SplitDict([splits_lib.SplitInfo(
        name=SPLIT, shard_lengths=[r['num_examples'] for r in records],
        num_bytes=sum(r['num_bytes'] for r in records), filename_template=self._template)]))
    staging = _temporary_name(os.path.join(self._version_dir, '.metadata'))
    tf.io.gfile.makedirs(staging)
    self._info.write_to_directory(staging)
    names: List[str] = sorted(tf.io.gfile.listdir(staging), key=lambda n: n == 'dataset_info.json')
    for name in names:  # dataset_info.json last: its presence means "complete".
      tf.io.gfile.rename(os.path.join(staging, name), os.path.join(self._version_dir, name),
                         overwrite=True)
    tf.io.gfile.rmtree(staging)
    return True


def _temporary_name(path: str) -> str:
  """A name next to `path` that no other writer uses (never taken as a finished file)."""
  return f'{path}.tmp-{uuid.uuid4().hex}'


def _write_json_atomically(path: str, value) -> None:
  temporary = _temporary_name(path)
  with tf.io.gfile.GFile(temporary, 'w') as f:
    json.dump(value, f, indent=1, sort_keys=True)
  tf.io.gfile.rename(temporary, path, overwrite=True)


def create_if_absent(path: str, text: str) -> bool:
  """Puts `text` at `path` unless a file is there already; whether this call created it.

  Atomic on a local file system (a hard link fails if the name exists), so of several processes
  claiming one path exactly one wins and nobody sees a half-written file. Elsewhere (gs://) the
  file system's non-overwriting rename is used.
  """
  temporary = _temporary_name(path)
  with tf.io.gfile.GFile(temporary, 'w') as f:
    f.write(text)
  try:
    if '://' in path:
      tf.io.gfile.rename(temporary, path, overwrite=False)
      return True
    os.link(temporary, path)
    return True
  except (FileExistsError, tf.errors.AlreadyExistsError):
    return False
  finally:
    if tf.io.gfile.exists(temporary):
      tf.io.gfile.remove(temporary)


def _problem(path: str, record: Dict[str, int]) -> Optional[str]:
  """What is wrong with the shard at `path` against its record, or None."""
  if 'file_bytes' not in record:  # Written by an older ad_tf: nothing to compare.
    return None
  file_bytes, digest = file_digest(path)
  if file_bytes != record['file_bytes']:
    return (f'{path} has {file_bytes} bytes but was written with {record["file_bytes"]} '
            '(truncated or overwritten)')
  if digest != record['sha256']:
    return f'{path} is corrupt: its SHA-256 is not the one it was written with'
  return None


def damaged_shards(version_dir: str) -> List[str]:
  """The problems of every shard of a written dataset against its record (read-only: what a
  reader that hit a bad record reports)."""
  problems = []
  for path in sorted(tf.io.gfile.glob(os.path.join(version_dir, '*.tfrecord-*-of-*'))):
    if '.tmp-' in path:
      continue
    shard = int(path.rsplit('-of-', 1)[0].rsplit('-', 1)[1])
    record_path = os.path.join(version_dir, _PROGRESS_DIR, f'{shard:05d}.json')
    if tf.io.gfile.exists(record_path):
      problem = _problem(path, _read_json(record_path))
      if problem:
        problems.append(problem)
  return problems


def file_digest(path: str):
  """(size in bytes, SHA-256 hex digest) of a file."""
  digest, size = hashlib.sha256(), 0
  with tf.io.gfile.GFile(path, 'rb') as f:
    while chunk := f.read(1 << 22):
      digest.update(chunk)
      size += len(chunk)
  return size, digest.hexdigest()


def _read_json(path: str):
  with tf.io.gfile.GFile(path) as f:
    return json.load(f)
