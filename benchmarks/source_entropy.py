"""The floor of AD's training loss in a dataset: the source's own action entropy, per kept episode.

AD's loss is the NLL of the source's actions. At a step where the source drew its action from a
distribution p (stored as `action_probs`), no model can score below the entropy H(p) on average,
and an in-context learner, which must infer the task from its context, stays above it. This
reads `ad_histories/<config>` through TFDS (the builder's `as_dataset`, as `tfds.load` does) and
reports, by kept-episode index within a history, the mean entropy of the source's action
distribution over the steps training reads and the mean episode return; then the mean entropy
over all those steps. docs/IN_CONTEXT_RL.md (K5) compares it with the training loss.
Usage: python -m benchmarks.source_entropy --root_dir=R --dataset_config=key_to_door
  [--max_episodes=4000]
Prints one JSON object on its last line.
"""

from absl import app
from absl import flags
import numpy as np
import rlds
import tensorflow as tf

from ad_tf import experiment
from ad_tf.data import history_windows
from benchmarks import figures as figures_lib

flags.DEFINE_string('root_dir', None, 'An experiment with a generated dataset (root_dir/tfds).')
flags.DEFINE_string('dataset_config', 'darkroom', 'Which ad_histories config.')
flags.DEFINE_integer('max_episodes', 4000, 'Read the first this many episodes (RLDS records), '
                     'or all if there are fewer.')
flags.mark_flag_as_required('root_dir')
FLAGS = flags.FLAGS


def entropy_by_episode(builder, max_episodes: int) -> dict:
  """Entropy and return by kept-episode index, the mean entropy and the episodes read."""
  def read_steps(episode):  # `as_dataset` nests the steps; training reads them as tensors.
    steps = episode[rlds.STEPS].batch(1 << 20).get_single_element()
    arrays = history_windows.training_steps({**episode, rlds.STEPS: steps})
    return {key: arrays[key] for key in ('action_probs', 'reward', 'episode_index')}

  total = builder.info.splits['train'].num_examples
  episodes = builder.as_dataset(split=f'train[:{min(max_episodes, total)}]').map(read_steps)
  entropies, returns, steps = {}, {}, []
  for episode in episodes.as_numpy_iterator():
    probs = episode['action_probs']
    entropy = -np.sum(probs * np.log(np.clip(probs, 1e-12, 1.0)), axis=-1)
    index = int(episode['episode_index'])
    entropies.setdefault(index, []).append(float(entropy.mean()))
    returns.setdefault(index, []).append(float(episode['reward'].sum()))
    steps.append(entropy)
  if not steps:
    raise ValueError(f'ad_histories/{builder.info.config_name} has no episodes to read.')
  return {'episodes': len(steps),
          'entropy_by_kept_episode': [round(float(np.mean(entropies[i])), 3)
                                      for i in sorted(entropies)],
          'return_by_kept_episode': [round(float(np.mean(returns[i])), 3)
                                     for i in sorted(returns)],
          'mean_entropy': round(float(np.concatenate(steps).mean()), 3)}


def main(argv):
  del argv
  tf.config.threading.set_intra_op_parallelism_threads(1)
  try:
    builder = history_windows.load_builder(experiment.tfds_dir(FLAGS.root_dir),
                                           FLAGS.dataset_config)
  except history_windows.DatasetError as error:
    raise app.UsageError(str(error))
  figures = {'root_dir': FLAGS.root_dir, 'dataset_config': FLAGS.dataset_config}
  figures.update(entropy_by_episode(builder, FLAGS.max_episodes))
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
