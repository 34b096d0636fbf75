"""The evaluation protocol: every method on the same held-out runs, split by split.

Runs = every held-out task of a split x `seeds_per_task` seeds (at least `min_runs`), actions
sampled from each policy. Splits: 'test' holds the held-out tasks (for the bandit, the
out-of-distribution ones); 'train', for families with continuous task spaces, fresh tasks of the
training distribution that no source ran on (the bandit's in-distribution evaluation).

Methods (`ad_tf.methods`, one interface): 'AD' and 'ED' (the trained transformers, each rebuilt
from its own model record), 'RL2' (online meta-RL's saved tf_agents policy), 'source' (the
source algorithm learning the held-out tasks from scratch), 'random' and 'thompson' (reference
policies). For every method: per-episode mean and std of the return, the mean of return / oracle per episode (each run normalised by its own
task's oracle), and the number of runs; the headline is the curve and its final episode, never a
mean over all episodes. `episodes_to_fraction` is the first episode whose normalised mean
reaches a fraction of the oracle. The source learns each task with its own actors; its episode
index counts episodes per actor, and `learner_episodes_per_index` says how many episodes its
learner consumed per index (all actors), which is the fair data-efficiency comparison with AD.
With `source_on_evaluation_runs` it plays exactly the evaluation's runs instead, and when
'random' is evaluated too every method gets the paper's normalised score
(r - r_random) / (r_source - r_random) over the evaluated episodes.

Writes root_dir/eval/results.json, returns.png (several episodes per run) and regret.png
(`step_curves`). A re-run with the same settings and checkpoints keeps the results.
"""

import json
import os
from typing import Callable, Dict, List, Optional, Sequence

from absl import logging
import gin
import matplotlib
import numpy as np

import ad_tf.envs
from ad_tf import experiment
from ad_tf.methods import method as method_lib
from ad_tf.methods import reference_policies
from ad_tf.methods import rl2_policy
from ad_tf.methods import source_from_scratch
from ad_tf.methods import transformer_policy
from ad_tf.sources import ppo

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position

METHOD_NAMES = ('AD', 'ED', 'RL2', 'source', 'random', 'thompson')
SPLIT_TITLES = {'test': 'held-out tasks (test split)',
                'train': 'in distribution: fresh tasks of the training split'}


class EvaluationError(ValueError):
  """Bad evaluation settings."""


def curve_summary(returns: np.ndarray, oracles: np.ndarray) -> Dict[str, object]:
  """returns [runs, episodes], oracles [runs] -> the per-episode figures of one method."""
  normalised = returns / oracles[:, None]
  return {'mean': returns.mean(0).tolist(), 'std': returns.std(0).tolist(),
          'normalised_mean': normalised.mean(0).tolist(),
          'normalised_std': normalised.std(0).tolist(), 'num_runs': int(returns.shape[0]),
          'final_episode_normalised': float(normalised.mean(0)[-1])}


def episodes_to_fraction(normalised_mean: List[float], fraction: float) -> Optional[int]:
  """1-based index of the first episode whose normalised mean reaches `fraction`, else None."""
  hits = np.nonzero(np.asarray(normalised_mean) >= fraction)[0]
  return int(hits[0]) + 1 if len(hits) else None


def normalised_score(method_return: float, random_return: float, source_return: float) -> float:
  """The paper's score (r - r_random) / (r_source - r_random): 0 is random, 1 the source."""
  return (method_return - random_return) / (source_return - random_return)


def milestone_rates(env_name: str, returns: np.ndarray) -> Dict[str, List[float]]:
  """returns [plays, episodes] -> per episode, the fraction of plays in which each of the
  family's milestones happened (e.g. Key-to-Door's 'key found', 'door opened')."""
  milestones = ad_tf.envs.get_family(env_name).milestones
  return {name: reached(returns, threshold).mean(0).tolist()
          for name, threshold in milestones.items()}


def goal_reached(env_name: str, returns: np.ndarray) -> np.ndarray:
  """returns [plays, episodes] -> whether each episode reached the family's last milestone, its
  goal (Dark Room's goal found, Key-to-Door's door opened); an error for a family with none."""
  milestones = ad_tf.envs.get_family(env_name).milestones
  if not milestones:
    raise ValueError(f'{env_name} has no milestones, so no goal an episode reaches.')
  return reached(returns, max(milestones.values()))


def reached(returns: np.ndarray, threshold: float) -> np.ndarray:
  return returns >= threshold - 1e-6


def goal_follow_through(goal: np.ndarray, max_misses: int = 2) -> dict:
  """goal [runs or histories, episodes] bool -> the goal rate per episode; after an episode that
  reached the goal, how often the next one does ('again'); the same after a row's first goal
  ('after_first'); after a goal followed by m = 1..max_misses episodes that missed it, how often
  the next reaches it again ('after_m_misses': how a model whose context still holds the goal
  recovers from a miss); the share of rows that never reach it; with the number of pairs behind
  each."""
  before, after = goal[:, :-1], goal[:, 1:]
  first = np.zeros_like(goal)
  found = goal.any(axis=1)
  first[np.where(found)[0], goal.argmax(axis=1)[found]] = True
  first_before = first[:, :-1]
  rate = lambda outcome, given: (round(float(outcome[given].mean()), 3) if given.any() else None)
  figures = {
      'histories': int(goal.shape[0]),
      'kept_episodes': int(goal.shape[1]),
      'goal_rate_per_kept_episode': [round(float(r), 3) for r in goal.mean(axis=0)],
      'again': rate(after, before),
      'again_pairs': int(before.sum()),
      'after_first': rate(after, first_before),
      'after_first_pairs': int(first_before.sum()),
  }
  for misses in range(1, max_misses + 1):
    # Episode e reached the goal, e + 1 .. e + misses did not; the outcome is episode
    # e + misses + 1. Rows too short for that have no such pair (None).
    span = max(0, goal.shape[1] - misses - 1)
    given = goal[:, :span].copy()
    for miss in range(1, misses + 1):
      given &= ~goal[:, miss:miss + span]
    name = f'after_{misses}_miss' + ('es' if misses > 1 else '')
    figures[name] = rate(goal[:, misses + 1:], given)
    figures[f'{name}_pairs'] = int(given.sum())
  figures['never'] = round(float(1.0 - found.mean()), 3)
  return figures


def evaluation_runs(env_name: str, split: str, num_episodes: int, seeds_per_task: int,
                    min_runs: int, seed: int,
                    max_test_tasks: Optional[int] = None) -> method_lib.EvaluationRuns:
  """Every held-out task of `split` (or a sample of `max_test_tasks` of them) x enough seeds
  for `min_runs` runs, with their seeds."""
  test_tasks = ad_tf.envs.held_out_tasks(env_name, min_runs, seed, split, max_test_tasks)
  per_task = max(seeds_per_task, -(-min_runs // len(test_tasks)))
  runs = [(task, s) for s in range(per_task) for task in test_tasks]
  env_seeds = np.array([seed * 100_003 + s * 1_009 + i for i, (_, s) in enumerate(runs)])
  return method_lib.EvaluationRuns(env_name, split, test_tasks, [task for task, _ in runs],
                                   env_seeds, env_seeds + 7, num_episodes)


def build_methods(root_dir: str, names: Sequence[str], ad_dataset_config: str,
                  ed_dataset_config: str, source_factory: Optional[Callable],
                  source_seeds_per_task: int, source_on_evaluation_runs: bool,
                  seed: int) -> List[method_lib.Method]:
  """The methods called `names`, in that order ('source' is left out without a factory)."""
  unknown = sorted(set(names) - set(METHOD_NAMES))
  if unknown:
    raise EvaluationError(f'evaluate.methods has unknown methods {unknown}; known methods are '
                          f'{METHOD_NAMES}.')
  built = []
  for name in names:
    if name == 'AD':
      built.append(transformer_policy.TrainedTransformer('AD', root_dir, ad_dataset_config))
    elif name == 'ED':
      built.append(transformer_policy.TrainedTransformer('ED', root_dir, ed_dataset_config))
    elif name == 'RL2':
      built.append(rl2_policy.SavedRl2Policy(root_dir))
    elif name == 'source' and source_factory is not None:
      built.append(source_from_scratch.SourceFromScratch(
          source_factory, source_seeds_per_task, source_on_evaluation_runs))
    elif name == 'random':
      built.append(reference_policies.RandomPolicy())
    elif name == 'thompson':
      built.append(reference_policies.ThompsonSampling(seed))
  return built


@gin.configurable
def evaluate(
    root_dir: str,
    # Environment
    env_name: str = 'darkroom',
    # Evaluation
    splits: Sequence[str] = ('test',),
    methods: Sequence[str] = ('AD', 'ED', 'RL2', 'source'),
    num_episodes: int = 40,
    seeds_per_task: int = 5,
    min_runs: int = 100,
    max_test_tasks: Optional[int] = None,
    seed: int = 0,
    ad_dataset_config: Optional[str] = None,
    ed_dataset_config: Optional[str] = None,
    source_factory: Optional[Callable] = ppo.PpoSource,
    source_seeds_per_task: int = 1,
    source_on_evaluation_runs: bool = False,
    step_curves: bool = False) -> Dict[str, object]:
  """Evaluates every method on the held-out runs of every split; returns (and writes) results.

  The models come from their own records (root_dir/train/<config>/model_record.json), so no
  training binding is needed here. A method that is not trained (AD, ED or RL² in a root_dir
  without it) is left out, and the evaluation re-runs once it is. `max_test_tasks` evaluates
  every method (the source too) on the same deterministic sample of that many held-out tasks
  instead of all of them.
  """
  settings = {
      'splits': list(splits), 'methods': list(methods), 'num_episodes': num_episodes,
      'seeds_per_task': seeds_per_task, 'min_runs': min_runs, 'max_test_tasks': max_test_tasks,
      'seed': seed,
      'ad_dataset_config': ad_dataset_config or env_name,
      'ed_dataset_config': ed_dataset_config or f'{env_name}_expert',
      'source': getattr(source_factory, '__name__', None),
      'source_seeds_per_task': source_seeds_per_task,
      'source_on_evaluation_runs': source_on_evaluation_runs, 'step_curves': step_curves}
  built = build_methods(root_dir, methods, settings['ad_dataset_config'],
                        settings['ed_dataset_config'], source_factory, source_seeds_per_task,
                        source_on_evaluation_runs, seed)
  stored = _stored_results(root_dir, env_name, settings, built)
  if stored is not None:
    logging.info('Evaluation is up to date with its settings and the trained checkpoints; kept.')
    return stored
  results = {'env': env_name, 'settings': settings, 'splits': {}}
  for split in splits:
    runs = evaluation_runs(env_name, split, num_episodes, seeds_per_task, min_runs, seed,
                           max_test_tasks)
    results['splits'][split] = _evaluate_split(runs, built, step_curves)
  write_results(root_dir, results)
  return results


def _evaluate_split(runs: method_lib.EvaluationRuns, methods: Sequence[method_lib.Method],
                    step_curves: bool) -> Dict[str, object]:
  section = {'num_test_tasks': len(runs.test_tasks), 'num_runs': runs.num_runs,
             'tasks': [{k: v.tolist() for k, v in t.items()} for t in runs.test_tasks],
             'oracle_per_task': method_lib.oracle_returns(runs.env_name,
                                                          runs.test_tasks).tolist(),
             'methods': {}}
  outcomes = {}
  episode_length = ad_tf.envs.get_spec(runs.env_name).episode_length
  for method in methods:
    result = method.run(runs)
    if result is None:
      continue
    outcomes[method.name] = result
    summary = {**result.info, **curve_summary(result.episode_returns, result.oracles),
               'on_evaluation_runs': result.on_evaluation_runs}
    summary['episodes_to_0.8_oracle'] = episodes_to_fraction(summary['normalised_mean'], 0.8)
    rates = milestone_rates(runs.env_name, result.single_play_returns())
    if rates:
      summary['milestone_rates'] = rates
    if step_curves and result.on_evaluation_runs and result.step_rewards is not None:
      steps = runs.num_episodes * episode_length
      per_step_oracle = result.oracles / episode_length
      regret = per_step_oracle[:, None] - result.step_rewards[:, :steps]
      summary['cumulative_regret'] = np.cumsum(regret.mean(0)).tolist()
    section['methods'][method.name] = summary
    logging.info('%s (%s): final-episode return / oracle %.3f', method.name, runs.split,
                 summary['final_episode_normalised'])
  section['data_efficiency'] = data_efficiency(section['methods'])
  section['normalised_scores'] = normalised_scores(outcomes, runs.num_episodes)
  return section


def normalised_scores(outcomes: Dict[str, method_lib.MethodResult],
                      num_episodes: int) -> Optional[Dict[str, float]]:
  """Each method's paper score over the first `num_episodes` episodes of the evaluation runs;
  None unless both the source and the random policy played the evaluation runs."""
  comparable = {name: result for name, result in outcomes.items() if result.on_evaluation_runs}
  if 'source' not in comparable or 'random' not in comparable:
    return None
  mean_return = {name: float(result.episode_returns[:, :num_episodes].sum(1).mean())
                 for name, result in comparable.items()}
  return {name: normalised_score(value, mean_return['random'], mean_return['source'])
          for name, value in mean_return.items()}


def data_efficiency(methods: Dict[str, Dict]) -> Optional[Dict[str, object]]:
  """Episodes to 0.8 x oracle: AD's against the source's learner (all its actors' episodes).

  `ratio` (source learner episodes / AD episodes) is None when either never gets there.
  """
  if 'AD' not in methods or 'source' not in methods:
    return None
  source = methods['source']
  ad_episodes = methods['AD']['episodes_to_0.8_oracle']
  learner_episodes = (None if source['episodes_to_0.8_oracle'] is None else
                      source['episodes_to_0.8_oracle'] * source['learner_episodes_per_index'])
  ratio = (learner_episodes / ad_episodes
           if ad_episodes is not None and learner_episodes is not None else None)
  return {'ad_episodes': ad_episodes, 'source_learner_episodes': learner_episodes,
          'ratio': ratio}


def _stored_results(root_dir: str, env_name: str, settings: Dict[str, object],
                    methods: Sequence[method_lib.Method]) -> Optional[Dict[str, object]]:
  """The stored results if they were made with these settings and every method's current
  checkpoint, else None."""
  path = experiment.results_path(root_dir)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    results = json.load(f)
  if results.get('env') != env_name or results.get('settings') != settings:
    return None
  for section in results['splits'].values():
    for method in methods:
      info = section['methods'].get(method.name)
      if info is None and method.available():  # E.g. RL² trained since.
        return None
      if info is not None and not method.up_to_date(info):
        return None
  return results


def write_results(root_dir: str, results: Dict[str, object]) -> None:
  """results.json, and the plots of every split, in root_dir/eval."""
  directory = experiment.eval_dir(root_dir)
  os.makedirs(directory, exist_ok=True)
  with open(experiment.results_path(root_dir) + '.tmp', 'w') as f:
    json.dump(results, f, indent=1)
  os.replace(experiment.results_path(root_dir) + '.tmp', experiment.results_path(root_dir))
  if results['settings']['num_episodes'] > 1:
    _plot(results, os.path.join(directory, 'returns.png'), _plot_returns, 'mean ± s.e.')
  if results['settings']['step_curves']:
    _plot(results, os.path.join(directory, 'regret.png'), _plot_regret, 'mean over runs')
  if results['settings']['num_episodes'] > 1 and ad_tf.envs.get_family(results['env']).milestones:
    _plot(results, os.path.join(directory, 'milestones.png'), _plot_milestones,
          'rate per episode')


def _plot(results, path: str, draw: Callable, statistic: str) -> None:
  sections = results['splits']
  figure, axes = plt.subplots(1, len(sections), figsize=(6 * len(sections), 4), dpi=100,
                              squeeze=False)
  for axis, (split, section) in zip(axes[0], sections.items()):
    draw(axis, section)
    axis.set_title(f'{results["env"]}, {SPLIT_TITLES[split]}: {statistic}', fontsize=10)
    axis.legend(loc='best', fontsize=8)
  figure.tight_layout()
  figure.savefig(path)
  plt.close(figure)


def _label(name: str, summary: Dict[str, object]) -> str:
  if name == 'source' and not summary['on_evaluation_runs']:
    return f'source {summary["algorithm"]}, per actor ({summary["num_actors"]} actors)'
  return f'{name} ({summary["num_runs"]} runs)'


def _plot_returns(axis, section) -> None:
  for name, summary in section['methods'].items():
    mean, std = np.array(summary['normalised_mean']), np.array(summary['normalised_std'])
    episodes = np.arange(1, len(mean) + 1)
    axis.plot(episodes, mean, label=_label(name, summary))
    axis.fill_between(episodes, mean - std / np.sqrt(summary['num_runs']),
                      mean + std / np.sqrt(summary['num_runs']), alpha=0.2)
  axis.axhline(1.0, color='grey', linestyle=':', label='oracle')
  axis.set_xlabel('episode')
  axis.set_ylabel('return / oracle')
  axis.set_ylim(-0.05, 1.1)


def _plot_milestones(axis, section) -> None:
  styles = ['-', '--', ':', '-.']
  for index, (name, summary) in enumerate(section['methods'].items()):
    color = f'C{index}'
    for style, (milestone, rates) in zip(styles, summary.get('milestone_rates', {}).items()):
      axis.plot(np.arange(1, len(rates) + 1), rates, color=color, linestyle=style,
                label=f'{name}: {milestone}')
  axis.set_xlabel('episode (source: per actor)')
  axis.set_ylabel('fraction of runs')
  axis.set_ylim(-0.05, 1.05)


def _plot_regret(axis, section) -> None:
  for name, summary in section['methods'].items():
    if 'cumulative_regret' in summary:
      regret = np.array(summary['cumulative_regret'])
      axis.plot(np.arange(1, len(regret) + 1), regret, label=_label(name, summary),
                linestyle='--' if name == 'source' else '-')  # AD may lie right on it.
  axis.set_xlabel('step (bandit: pull)')
  axis.set_ylabel('cumulative regret (mean over runs)')


def results_table(results: Dict[str, object]) -> str:
  """A plain-text table of the headline figures of every method in every split."""
  lines = []
  for split, section in results['splits'].items():
    scores = section.get('normalised_scores') or {}
    lines += [f'{results["env"]}, {SPLIT_TITLES[split]}: {section["num_runs"]} runs on '
              f'{section["num_test_tasks"]} tasks',
              f'{"method":<9} {"episodes":>8} {"final return":>13} {"final / oracle":>15} '
              f'{"first ep. >= 0.8 oracle":>24}' + (f' {"score":>6}' if scores else '')]
    for name, summary in section['methods'].items():
      reached = summary['episodes_to_0.8_oracle']
      if name == 'source' and reached is not None and not summary['on_evaluation_runs']:
        reached = (f'{reached} per actor = {reached * summary["learner_episodes_per_index"]} '
                   'learner episodes')
      line = (f'{name:<9} {len(summary["mean"]):>8} {summary["mean"][-1]:>13.2f} '
              f'{summary["final_episode_normalised"]:>15.3f} {str(reached or "never"):>24}')
      if name in scores:
        line += f' {scores[name]:>6.3f}'
      rates = summary.get('milestone_rates', {})
      if rates:
        line += '  final episode: ' + ', '.join(f'{milestone} {values[-1]:.2f}'
                                               for milestone, values in rates.items())
      lines.append(line)
    efficiency = section.get('data_efficiency')
    if efficiency and efficiency['ratio'] is not None:
      lines.append(f'Episodes to 0.8 x oracle: AD {efficiency["ad_episodes"]}, source '
                   f'{efficiency["source_learner_episodes"]} (its learner\'s episodes, all '
                   f'actors): {efficiency["ratio"]:.1f}x fewer for AD.')
    if scores:
      lines.append('score: (return - random) / (source - random) over the evaluated episodes '
                   '(the paper\'s normalisation).')
  return '\n'.join(lines)
