"""Where a trained AD model's in-context return comes from: exploration vs exploitation.

Rolls the model of `--root_dir` (its last checkpoint) out on every held-out Dark Room goal and
every training goal, with more seeds than `evaluate` and seeds of its own, and reports per split:
the mean return / oracle at episodes 1, 5, 10, 20, 30, 40; the share of runs that never get a
reward ("never": exploration); the median episode of the first reward; and the mean return /
oracle in the 5 episodes after a run's first reward and from 10 episodes after it on
(exploitation). docs/IN_CONTEXT_RL.md's session-4 table is made of these figures.

Usage: python -m benchmarks.in_context_analysis --root_dir=R [--gin_file=gin/darkroom_small.gin]
Prints one JSON object on its last line.
"""

from absl import app
from absl import flags
import gin
import numpy as np

import ad_tf
import ad_tf.configurables  # pylint: disable=unused-import  (the gin file configures train)
from ad_tf.evaluation import evaluate
from ad_tf.evaluation import in_context
from benchmarks import figures as figures_lib

flags.DEFINE_string('root_dir', None, 'A root with a trained AD model (train/<config>/).')
flags.DEFINE_string('gin_file', 'gin/darkroom_small.gin', 'The config the model was trained with.')
flags.DEFINE_multi_string('gin_bindings', [], 'Gin bindings.')
flags.DEFINE_integer('test_seeds', 10, 'Runs per held-out goal.')
flags.DEFINE_integer('train_seeds', 3, 'Runs per training goal.')
flags.DEFINE_integer('num_episodes', 40, 'Episodes per run.')
flags.mark_flag_as_required('root_dir')
FLAGS = flags.FLAGS

_ENV = 'darkroom'
_REPORTED_EPISODES = (1, 5, 10, 20, 30, 40)


def analyse_split(model, env, split: str, num_seeds: int, context_length: int) -> dict:
  family = ad_tf.envs.get_family(_ENV)
  runs = [task for _ in range(num_seeds) for task in family.split_tasks(split)]
  oracles = np.array([family.oracle_return(task) for task in runs])
  env_seeds = np.array([777 + 31 * index for index in range(len(runs))])
  returns = in_context.rollout(model, env, ad_tf.envs.stack_tasks(_ENV, runs), env_seeds,
                               FLAGS.num_episodes, context_length, policy_seeds=env_seeds + 5)
  normalised = returns / oracles[:, None]
  rewarded = returns > 0
  first = np.where(rewarded.any(axis=1), rewarded.argmax(axis=1), -1)
  soon, later = [], []
  for run, episode in enumerate(first):
    if 0 <= episode and episode + 10 < FLAGS.num_episodes:
      soon.append(normalised[run, episode + 1:episode + 6].mean())
      later.append(normalised[run, episode + 10:].mean())
  curve = normalised.mean(axis=0)
  figures = {f'{split}_runs': len(runs)}
  for episode in _REPORTED_EPISODES:
    if episode <= FLAGS.num_episodes:
      figures[f'{split}_episode_{episode}'] = round(float(curve[episode - 1]), 3)
  figures.update({
      f'{split}_never_rewarded': round(float(np.mean(first < 0)), 3),
      f'{split}_first_reward_median_episode': (
          float(np.median(first[first >= 0]) + 1) if (first >= 0).any() else None),
      f'{split}_after_first_reward_1_to_5': round(float(np.mean(soon)), 3) if soon else None,
      f'{split}_after_first_reward_10_on': round(float(np.mean(later)), 3) if later else None,
  })
  return figures


def main(argv):
  del argv
  gin.parse_config_files_and_bindings([FLAGS.gin_file], FLAGS.gin_bindings)
  context_length = gin.query_parameter('train.context_length')
  config = gin.query_parameter('train.dataset_config')
  model = evaluate.load_model(FLAGS.root_dir, config, _ENV, context_length)
  if model is None:
    raise app.UsageError(f'No trained {config!r} model under {FLAGS.root_dir}/train: run '
                         'python -m ad_tf.bin.train with this --root_dir first.')
  env = ad_tf.envs.load_batched(_ENV)
  figures = {'root_dir': FLAGS.root_dir}
  figures.update(analyse_split(model, env, 'test', FLAGS.test_seeds, context_length))
  figures.update(analyse_split(model, env, 'train', FLAGS.train_seeds, context_length))
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
