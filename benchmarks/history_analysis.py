"""What the source's learning histories show AD: how often each kept episode reaches the goal,
and how reliably a history reaches it again right after.

Reads `ad_histories/<config>` of `--root_dir` with `tfds.load` (the first `--percent` of its
episodes) and groups the episodes into histories by `history_id`, keeping the whole ones (the
generation record says how many episodes a history keeps). An episode reaches the goal when its
return reaches the family's last milestone (Dark Room's goal found, Key-to-Door's door opened). It
reports: the goal rate at each kept episode of a history; after a kept episode that reached the
goal, how often the next kept one does ("again"); the same after a history's first goal
("after_first"); and after a goal followed by one or two kept episodes without it ("after_1_miss",
"after_2_misses": whether a goal and then misses mean, in the data, a learner that knows the goal
and slipped, or a lucky hit it has not learned yet). AD imitates the step from one kept episode to
the next, so these are the follow-through its training windows show it (docs/IN_CONTEXT_RL.md,
2026-12-04).

Usage: python -m benchmarks.history_analysis --root_dir=R [--dataset_config=key_to_door]
  [--percent=10]
Prints one JSON object on its last line.
"""

import collections

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

import ad_tf  # pylint: disable=unused-import  (registers ad_histories)
from ad_tf import experiment
from ad_tf.data import history_windows
from ad_tf.evaluation import evaluate
from benchmarks import figures as figures_lib

flags.DEFINE_string('root_dir', None, 'A root with a generated dataset (tfds/ad_histories/).')
flags.DEFINE_string('dataset_config', 'key_to_door', 'Which dataset (its config name).')
flags.DEFINE_integer('percent', 10, 'The share of the dataset read, in percent of its episodes.')
flags.mark_flag_as_required('root_dir')
FLAGS = flags.FLAGS


def history_returns(root_dir: str, config: str, percent: int, episodes_per_history: int
                    ) -> np.ndarray:
  """[whole histories read, kept episodes] episode returns, in the order read."""
  episodes = tfds.load(f'{experiment.DATASET_NAME}/{config}',
                       data_dir=experiment.tfds_dir(root_dir), split=f'train[:{percent}%]')
  returns = episodes.map(lambda episode: (episode['history_id'], episode['steps'].reduce(
      tf.constant(0.0), lambda total, step: total + step['reward'])))
  by_history = collections.OrderedDict()
  for history_id, episode_return in returns.as_numpy_iterator():
    by_history.setdefault(int(history_id), []).append(float(episode_return))
  whole = [kept for kept in by_history.values() if len(kept) == episodes_per_history]
  if not whole:
    raise app.UsageError(f'--percent={percent} of {config} holds no whole history (each keeps '
                         f'{episodes_per_history} episodes): read a larger share.')
  return np.array(whole)


def main(argv):
  del argv
  config = FLAGS.dataset_config
  try:
    builder = history_windows.load_builder(experiment.tfds_dir(FLAGS.root_dir), config)
    env_name, _, episodes_per_history = history_windows.history_shape(builder)
  except history_windows.DatasetError as error:
    raise app.UsageError(str(error)) from error
  returns = history_returns(FLAGS.root_dir, config, FLAGS.percent, episodes_per_history)
  figures = {'root_dir': FLAGS.root_dir, 'dataset_config': config, 'env': env_name}
  figures.update(evaluate.goal_follow_through(evaluate.goal_reached(env_name, returns)))
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
