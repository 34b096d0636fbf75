r"""The furthest real stage of the pipeline that exists, on the embedded CPU default.

  python -m ad_tf.bin.demo --root_dir=runs/demo --gin_file=gin/darkroom_small.gin

Today: generates the source agents' learning histories (resumable), reads them back with
`tfds.load` and prints how the source's return rises along its histories. Training, evaluation
and export join as they land.
"""

from absl import app
from absl import flags
import numpy as np
import tensorflow_datasets as tfds

import ad_tf
from ad_tf.bin import binary_utils
from ad_tf.generation import generate as generate_lib

flags.DEFINE_string('root_dir', None, 'Experiment directory.')
flags.DEFINE_multi_string('gin_file', [], 'Gin config files.')
flags.DEFINE_multi_string('gin_bindings', [], 'Gin bindings.')
flags.mark_flag_as_required('root_dir')
FLAGS = flags.FLAGS


def summarize(version_dir: str) -> None:
  """Prints the dataset's size and the source's mean return along its histories."""
  builder = tfds.builder_from_directory(version_dir)
  env_name = builder.info.metadata['generation']['env_name']
  ds = builder.as_dataset(split='train').map(lambda e: {
      'history': e['history_id'], 'index': e['episode_index'], 'task': e['task'],
      'return': e['steps'].reduce(0.0, lambda total, step: total + step['reward'])})
  returns, oracles = {}, {}
  for episode in tfds.as_numpy(ds):
    returns.setdefault(episode['history'], {})[episode['index']] = episode['return']
    oracles[episode['history']] = ad_tf.envs.oracle_return(env_name, episode['task'])
  curve = np.array([[r[i] for i in sorted(r)] for r in returns.values()])
  oracle = np.mean(list(oracles.values()))
  print(f'\nDataset: {version_dir}')
  print(f'{builder.info.splits["train"].num_examples} RLDS episodes: {len(returns)} learning '
        f'histories of {curve.shape[1]} episodes on {env_name}.')
  print(f'Source return along its histories (mean over histories; mean oracle {oracle:.2f}):')
  for start in range(0, curve.shape[1], max(1, curve.shape[1] // 10)):
    print(f'  episode {start:4d}: {curve[:, start].mean():6.2f}  '
          f'({curve[:, start].mean() / oracle:4.0%} of oracle)')


def main(argv):
  del argv
  binary_utils.parse_gin(FLAGS.gin_file, FLAGS.gin_bindings)
  version_dir = binary_utils.run(lambda: generate_lib.generate(FLAGS.root_dir))
  summarize(version_dir)


if __name__ == '__main__':
  app.run(main)
