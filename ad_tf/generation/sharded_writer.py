"""A TFDS split written as a fixed number of shards, each exactly once and atomically.

Shard i is `ad_histories-train.tfrecord-0000i-of-0000n` in the TFDS layout. It is written under a
temporary name and renamed only when complete, after a small record of its length, so a crash
leaves either a whole shard or none. Re-running skips complete shards; separate processes can
write disjoint shards of one dataset. When every shard exists, `finalize` writes the TFDS metadata
(dataset_info.json last, atomically), which is what makes the dataset loadable.

Any number of processes may write at once (task shards, Beam workers, a Beam retry of the same
shard): every temporary file has a name of its own, and what two writers of one shard or of the
metadata put in place is the same bytes. Files go through tf.io.gfile, so the root directory may
be on a shared file system such as gs:// when the workers are remote.
"""

import json
import os
from typing import Iterable, List
import uuid

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
    _write_json_atomically(self._record_path(shard),
                           {'num_examples': num_examples, 'num_bytes': num_bytes})
    tf.io.gfile.rename(temporary, path, overwrite=True)
    return num_examples

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


def _read_json(path: str):
  with tf.io.gfile.GFile(path) as f:
    return json.load(f)
