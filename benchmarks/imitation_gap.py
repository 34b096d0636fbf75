"""How closely a trained AD model imitates its source, per kept episode of the training histories.

AD is trained to predict the source's actions. At a step where the source drew its action from
p (stored as `action_probs`) and the model gives q, the model's expected loss is the
cross-entropy H(p, q) = H(p) + KL(p || q): the source's own entropy H(p) is the floor
(`benchmarks.source_entropy`), and KL(p || q) >= 0 is what the model has not learnt. This reads
`--histories` histories of `ad_histories/<config>` as training reads them (the same parser,
decoded frames), and for every kept episode e of each feeds the model the `context_length`-step
window that ends with episode e (the first `context_length` steps for the episodes before the
context is full), in inference mode, and scores episode e's steps. It reports, per kept-episode
index: the model's cross-entropy, the source's entropy, their gap (the mean KL), and how often
the model's most likely action is the source's; then the means over all episodes.

A large gap on the late kept episodes (the source exploiting what it has learnt) with a small
one on the early ones says the model has not learnt to imitate exploitation from its context;
a small gap everywhere with a poor in-context evaluation says the evaluation's own histories
differ from the source's (docs/WATERMAZE.md, W8).

Usage: python -m benchmarks.imitation_gap --root_dir=R [--dataset_config=watermaze]
  [--histories=64]
Prints one JSON object on its last line.
"""

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

import ad_tf
from ad_tf import experiment
from ad_tf.data import history_windows
from ad_tf.model import loading
from benchmarks import figures as figures_lib


def define_flags():
  """The command line's flags, defined when run as a program only: the tests import this module
  beside other benchmarks that define flags of the same names."""
  flags.DEFINE_string('root_dir', None, 'A root with a dataset (tfds/) and a trained AD model.')
  flags.DEFINE_string('dataset_config', 'darkroom', 'Which dataset and trained model.')
  flags.DEFINE_integer('histories', 64, 'Histories read (from the start of the shard order).')
  flags.DEFINE_integer('batch_size', 16, 'Windows per forward pass.')
  flags.mark_flag_as_required('root_dir')


FLAGS = flags.FLAGS


def episode_windows(num_episodes: int, episode_length: int, context_length: int):
  """Per kept episode e: (window start, offset of e's first step in the window). The window
  holds `context_length` steps and ends with episode e once e is that far into the history."""
  windows = []
  for episode in range(num_episodes):
    end = (episode + 1) * episode_length
    start = max(0, end - context_length)
    windows.append((start, episode * episode_length - start))
  return windows


def imitation_gap(model, histories, episode_length: int, context_length: int,
                  batch_size: int) -> dict:
  """histories: decoded step inputs and targets of whole histories (`decoded_history_steps`,
  each [steps, ...]). Returns the per-kept-episode figures and their means."""
  first = histories[0]
  num_episodes = first['action'].shape[0] // episode_length
  windows = episode_windows(num_episodes, episode_length, context_length)
  cross, entropy, agree = (np.zeros([len(histories), num_episodes]) for _ in range(3))
  items = [(h, e) for h in range(len(histories)) for e in range(num_episodes)]
  for begin in range(0, len(items), batch_size):
    chunk = items[begin:begin + batch_size]
    inputs = {key: np.stack([histories[h][key][windows[e][0]:windows[e][0] + context_length]
                             for h, e in chunk])
              for key in ('observation', 'time', 'prev_action', 'prev_reward')}
    log_q = tf.nn.log_softmax(model(inputs, training=False)).numpy()
    for row, (h, e) in enumerate(chunk):
      offset = windows[e][1]
      scored = slice(e * episode_length, (e + 1) * episode_length)
      p = histories[h]['action_probs'][scored]
      q_log = log_q[row, offset:offset + episode_length]
      cross[h, e] = float(np.mean(-(p * q_log).sum(-1)))
      entropy[h, e] = float(np.mean(-(p * np.log(np.clip(p, 1e-12, 1.0))).sum(-1)))
      agree[h, e] = float(np.mean(q_log.argmax(-1) == histories[h]['action'][scored]))
  by_episode = lambda x: [round(float(v), 3) for v in x.mean(axis=0)]
  return {
      'histories': len(histories), 'kept_episodes': num_episodes,
      'cross_entropy_by_kept_episode': by_episode(cross),
      'source_entropy_by_kept_episode': by_episode(entropy),
      'gap_by_kept_episode': by_episode(cross - entropy),
      'agreement_by_kept_episode': by_episode(agree),
      'mean_cross_entropy': round(float(cross.mean()), 3),
      'mean_source_entropy': round(float(entropy.mean()), 3),
      'mean_gap': round(float((cross - entropy).mean()), 3),
  }


def read_histories(root_dir: str, dataset_config: str, num_histories: int) -> list:
  data_dir = experiment.tfds_dir(root_dir)
  builder = history_windows.load_builder(data_dir, dataset_config)
  env_name, total, _ = history_windows.history_shape(builder)
  env_spec = ad_tf.envs.get_spec(env_name)
  histories = (history_windows.shuffled_histories(builder, seed=0, cycle_length=1)
               .take(min(num_histories, total))
               .map(lambda history: history_windows.decoded_history_steps(history, env_spec)))
  return list(histories.as_numpy_iterator())


def main(argv):
  del argv
  restored = loading.restore(FLAGS.root_dir, FLAGS.dataset_config)
  if restored is None:
    raise app.UsageError(f'No trained {FLAGS.dataset_config!r} model under {FLAGS.root_dir}/train:'
                         ' run python -m ad_tf.bin.train with this --root_dir first.')
  model, record, _ = restored
  try:
    histories = read_histories(FLAGS.root_dir, FLAGS.dataset_config, FLAGS.histories)
  except history_windows.DatasetError as error:
    raise app.UsageError(str(error))
  episode_length = ad_tf.envs.get_spec(record.env_name).episode_length
  figures = {'root_dir': FLAGS.root_dir, 'dataset_config': FLAGS.dataset_config,
             'context_length': record.context_length}
  figures.update(imitation_gap(model, histories, episode_length, record.context_length,
                               FLAGS.batch_size))
  figures_lib.report(figures)


if __name__ == '__main__':
  define_flags()
  app.run(main)
