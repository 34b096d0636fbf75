"""Where a trained AD model's in-context return comes from: exploration vs exploitation.

Rolls the model of `--root_dir` (its last checkpoint) out on the held-out and the training tasks
of its environment (Dark Room, Dark Room Hard, Key-to-Door, Watermaze: the environment is the
model's), with more seeds than `evaluate` and seeds of its own. Watermaze's platforms are
continuous: its test split is the evaluation's own draw of `--max_tasks` platforms (100 unless
given), its train split as many fresh platforms of the training region, none trained on. An
episode "reaches the goal" when its return reaches the family's last milestone (Dark Room's goal
found, Key-to-Door's door opened: a return of 2, the key's reward and the door's; Watermaze's
platform found). Per split it reports: the mean
return / oracle at episodes 1, 5, 10, 20, 30, 40 (and 60-160 with `--num_episodes`); the share of
runs that never reach the goal ("never": exploration); the median episode of the first goal; the
mean return / oracle in the 5 episodes after a run's first goal and from 10 episodes after it on,
how often an episode right after a goal reaches it again ("after_goal_again"), and how often it
does after one or two episodes that missed it while the goal is still in the context
("after_goal_1_miss", "after_goal_2_misses": a model that leans on its last episode alone loses a
goal after a miss) (exploitation). Where every episode starts at the centre (Dark Room, Dark
Room Hard: bands of 4 steps; Watermaze: bands of 0.1 of the arena's radius) the figures are also
given per band of the goal's distance from the start ("by_goal_distance"). docs/IN_CONTEXT_RL.md's 2026-11-25, 99363af table is made of these figures.

Exploitation is split further by what the context holds when an episode starts (the episodes
before it that the sliding context still has: context_length / episode_length - 1 of them):
episodes with a goal in that context ("in_context": their mean, and the shares at >= 0.95 of
the oracle and at 0), and episodes after a run's first goal whose context no longer holds any
("lost_goal": their share of all episodes after a first goal, their mean, and how often they
reach the goal). `--max_tasks` keeps a sample of each split (Key-to-Door's test split has 1,641
tasks); on the test split it is the sample `evaluate.max_test_tasks` plays.

The model is rebuilt from its own record (root_dir/train/<config>/model_record.json): no gin file.
Usage: python -m benchmarks.in_context_analysis --root_dir=R [--dataset_config=darkroom_hard]
  [--max_tasks=200]
Prints one JSON object on its last line.
"""

from absl import app
from absl import flags
import numpy as np

import ad_tf
from ad_tf.envs import family as family_lib
from ad_tf.evaluation import evaluate
from ad_tf.methods import in_context
from ad_tf.model import loading
from benchmarks import figures as figures_lib


def define_flags():
  """The command line's flags, defined when run as a program only: the tests import this module
  beside other benchmarks that define flags of the same names."""
  flags.DEFINE_string('root_dir', None, 'A root with a trained AD model (train/<config>/).')
  flags.DEFINE_string('dataset_config', 'darkroom', 'Which trained model (its dataset config).')
  flags.DEFINE_integer('test_seeds', 10, 'Runs per held-out goal.')
  flags.DEFINE_integer('train_seeds', 3, 'Runs per training goal.')
  flags.DEFINE_integer('num_episodes', 40, 'Episodes per run.')
  flags.DEFINE_integer('slide', None, 'Steps the full context drops at once (default: one episode).')
  flags.DEFINE_integer('max_tasks', None, 'Tasks kept per split (a seeded sample; default: all).')
  flags.mark_flag_as_required('root_dir')


FLAGS = flags.FLAGS

# Environments with a goal to reach (the bandit has none).
_ENVS = ('darkroom', 'darkroom_hard', 'key_to_door', 'watermaze')
_REPORTED_EPISODES = (1, 5, 10, 20, 30, 40, 60, 80, 120, 160)
# Tasks per split where the task space is continuous (Watermaze) and --max_tasks is not given:
# the evaluation's own number (evaluate.min_runs).
_CONTINUOUS_TASKS = 100
# Rooms whose task is one goal cell and whose episodes start at the centre: their figures are also
# given per band of the goal's distance from the start, _DISTANCE_BAND steps wide.
_CENTRE_START_ENVS = ('darkroom', 'darkroom_hard')
_DISTANCE_BAND = 4
# Watermaze starts at the arena's centre too: bands of its platform's distance, this wide.
_PLATFORM_DISTANCE_BAND = 0.1


def _first_goal_median_episode(first: np.ndarray):
  """first [runs]: each run's first goal episode (0-based, -1 if never) -> their median, 1-based."""
  return float(np.median(first[first >= 0]) + 1) if (first >= 0).any() else None


def _mean_or_none(values: np.ndarray):
  return round(float(np.mean(values)), 3) if values.size else None


def analysis_tasks(env_name: str, split: str, max_tasks=None) -> list:
  """The split's tasks, or a seeded sample of `max_tasks` of them in the split's order (on the
  test split, the sample that `evaluate.max_test_tasks` plays at the evaluation's seed 0). A
  continuous task space has no list: `max_tasks` draws (_CONTINUOUS_TASKS unless given) at the
  evaluation's seed 0, on the test split the evaluation's own platforms."""
  if not isinstance(ad_tf.envs.get_family(env_name), family_lib.FiniteTaskFamily):
    return ad_tf.envs.held_out_tasks(env_name, max_tasks or _CONTINUOUS_TASKS, 0, split)
  if split == 'test':
    return ad_tf.envs.held_out_tasks(env_name, 1, 0, 'test', max_tasks)
  tasks = ad_tf.envs.get_family(env_name).split_tasks(split)
  return ad_tf.envs.keep_sample(env_name, tasks, max_tasks, [0, len(tasks)])


def analyse_split(model, env_name: str, env, split: str, num_seeds: int, context_length: int,
                  num_episodes: int, slide=None, max_tasks=None) -> dict:
  family = ad_tf.envs.get_family(env_name)
  runs = [task for _ in range(num_seeds) for task in analysis_tasks(env_name, split, max_tasks)]
  oracles = np.array([family.oracle_return(task) for task in runs])
  env_seeds = np.array([777 + 31 * index for index in range(len(runs))])
  returns = in_context.episode_returns(in_context.rollout(
      model, env, ad_tf.envs.stack_tasks(env_name, runs), env_seeds, num_episodes,
      context_length, policy_seeds=env_seeds + 5, slide=slide), env.episode_length)
  normalised = returns / oracles[:, None]
  rewarded = evaluate.goal_reached(env_name, returns)
  held = context_length // env.episode_length - 1  # Past episodes in context at an episode start.
  reward_in_context = np.zeros_like(rewarded)
  found_before = np.zeros_like(rewarded)
  for episode in range(1, num_episodes):
    reward_in_context[:, episode] = rewarded[:, max(0, episode - held):episode].any(axis=1)
    found_before[:, episode] = rewarded[:, :episode].any(axis=1)
  lost = found_before & ~reward_in_context
  first = np.where(rewarded.any(axis=1), rewarded.argmax(axis=1), -1)
  soon, later = [], []
  for run, episode in enumerate(first):
    if 0 <= episode and episode + 10 < num_episodes:
      soon.append(normalised[run, episode + 1:episode + 6].mean())
      later.append(normalised[run, episode + 10:].mean())
  curve = normalised.mean(axis=0)
  follow_through = evaluate.goal_follow_through(rewarded)
  figures = {f'{split}_runs': len(runs)}
  for episode in _REPORTED_EPISODES:
    if episode <= num_episodes:
      figures[f'{split}_episode_{episode}'] = round(float(curve[episode - 1]), 3)
  figures.update({
      f'{split}_never_rewarded': round(float(np.mean(first < 0)), 3),
      f'{split}_first_reward_median_episode': _first_goal_median_episode(first),
      f'{split}_after_first_reward_1_to_5': round(float(np.mean(soon)), 3) if soon else None,
      f'{split}_after_first_reward_10_on': round(float(np.mean(later)), 3) if later else None,
      f'{split}_in_context_episodes': int(reward_in_context.sum()),
      f'{split}_in_context_mean': _mean_or_none(normalised[reward_in_context]),
      f'{split}_in_context_at_least_0.95': _mean_or_none(normalised[reward_in_context] >= 0.95),
      f'{split}_in_context_zero': _mean_or_none(returns[reward_in_context] == 0),
      f'{split}_lost_goal_share': _mean_or_none(lost[found_before]),
      f'{split}_lost_goal_mean': _mean_or_none(normalised[lost]),
      f'{split}_lost_goal_reached': _mean_or_none(rewarded[lost]),
      f'{split}_after_goal_again': follow_through['again'],
      f'{split}_after_goal_1_miss': follow_through['after_1_miss'],
      f'{split}_after_goal_2_misses': follow_through['after_2_misses'],
      f'{split}_last_10_mean': round(float(normalised[:, -10:].mean()), 3),
  })
  labels = goal_distance_bands(env_name, runs)
  if labels is not None:
    figures[f'{split}_by_goal_distance'] = by_goal_distance(labels, rewarded, first,
                                                            found_before[:, -1])
  return figures


def goal_distance_bands(env_name: str, runs: list):
  """Each run's band of its goal's distance from the start, as a label ('4-7' steps; '0.3-0.4' of
  Watermaze's radius), where every episode starts at the centre; None elsewhere."""
  if env_name in _CENTRE_START_ENVS:
    centre = ad_tf.envs.get_family(env_name).size // 2
    lows = [int(np.abs(np.asarray(task['goal']) - centre).sum()) // _DISTANCE_BAND * _DISTANCE_BAND
            for task in runs]
    return [f'{low}-{low + _DISTANCE_BAND - 1}' for low in lows]
  if env_name == 'watermaze':
    bands = [int(np.hypot(*np.asarray(task['platform'], np.float64)) / _PLATFORM_DISTANCE_BAND)
             for task in runs]
    return [f'{band * _PLATFORM_DISTANCE_BAND:.1f}-{(band + 1) * _PLATFORM_DISTANCE_BAND:.1f}'
            for band in bands]
  return None


def by_goal_distance(labels: list, rewarded: np.ndarray, first: np.ndarray,
                     found_before_last: np.ndarray) -> dict:
  """Per band of the goal's distance from the start (labels [runs], `goal_distance_bands`), nearest
  first: the runs, the share that never reach the goal, the median episode of the first goal, and
  the last episode's goal rate overall and among the runs that had reached it before. rewarded
  [runs, episodes] bool; first [runs] each run's first goal episode (-1: never);
  found_before_last [runs] bool."""
  labels = np.asarray(labels)
  bands = {}
  for label in sorted(set(labels.tolist()), key=lambda text: float(text.split('-')[0])):
    band = labels == label
    bands[label] = {
        'runs': int(band.sum()),
        'never': round(float(np.mean(first[band] < 0)), 3),
        'first_goal_median_episode': _first_goal_median_episode(first[band]),
        'last_episode': round(float(rewarded[band, -1].mean()), 3),
        'last_episode_if_found_before': _mean_or_none(rewarded[band & found_before_last, -1]),
    }
  return bands


def main(argv):
  del argv
  restored = loading.restore(FLAGS.root_dir, FLAGS.dataset_config)
  if restored is None:
    raise app.UsageError(f'No trained {FLAGS.dataset_config!r} model under {FLAGS.root_dir}/train:'
                         ' run python -m ad_tf.bin.train with this --root_dir first.')
  model, record, _ = restored
  if record.env_name not in _ENVS:
    raise app.UsageError(f'This analysis is for environments with a goal, {_ENVS}; the model '
                         f'of {FLAGS.root_dir} acts in {record.env_name}.')
  context_length = record.context_length
  env = ad_tf.envs.load_batched(record.env_name)
  figures = {'root_dir': FLAGS.root_dir, 'env': record.env_name,
             'slide': FLAGS.slide or env.episode_length}
  for split, num_seeds in (('test', FLAGS.test_seeds), ('train', FLAGS.train_seeds)):
    figures.update(analyse_split(model, record.env_name, env, split, num_seeds, context_length,
                                 FLAGS.num_episodes, FLAGS.slide, FLAGS.max_tasks))
  figures_lib.report(figures)


if __name__ == '__main__':
  define_flags()
  app.run(main)
