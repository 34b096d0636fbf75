"""The evaluation protocol: AD, ED and the source on the same held-out tasks.

Runs = every test-split task x `seeds_per_task` seeds (at least `min_runs`), actions sampled from
each policy. For every method: per-episode mean and std of the return, the mean of
return / oracle per episode (each run normalised by its own task's oracle), and the number of
runs. The headline is the curve and its final episode, never a mean over all episodes.
`episodes_to_fraction` is the first episode whose normalised mean reaches a fraction of the
oracle. The source learns each task from scratch with its own actors; its episode index counts
episodes per actor, and `learner_episodes_per_index` says how many episodes its learner
consumed per index (all actors), which is the fair data-efficiency comparison with AD.
Writes root_dir/eval/results.json and root_dir/eval/returns.png.
"""

import json
import os
from typing import Callable, Dict, List, Optional

from absl import logging
import gin
import matplotlib
import numpy as np
import tensorflow as tf

import ad_tf.envs
from ad_tf.evaluation import in_context
from ad_tf.model import transformer
from ad_tf.sources import ppo
from ad_tf.train import trainer

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position


def latest_checkpoint(root_dir: str, dataset_config: str) -> Optional[str]:
  return tf.train.latest_checkpoint(
      os.path.join(trainer.train_dir(root_dir, dataset_config), 'checkpoints'))


def is_up_to_date(root_dir: str) -> bool:
  """Whether root_dir/eval/results.json was made from the current AD and ED checkpoints."""
  path = os.path.join(root_dir, 'eval', 'results.json')
  if not os.path.exists(path):
    return False
  with open(path) as f:
    methods = json.load(f)['methods']
  return all(m.get('checkpoint') == latest_checkpoint(root_dir, m['dataset_config'])
             for name, m in methods.items() if name != 'source') and 'AD' in methods


def load_model(root_dir: str, dataset_config: str, env_name: str,
               context_length: int) -> Optional[tf.keras.Model]:
  """The latest trained model for `dataset_config`, or None if it was never trained."""
  latest = latest_checkpoint(root_dir, dataset_config)
  if latest is None:
    return None
  model = trainer.build_model(env_name)
  transformer.build_seeded(model, trainer.example_step_inputs(env_name, 1, context_length), 0)
  tf.train.Checkpoint(model=model).restore(latest).expect_partial()
  logging.info('Loaded %s', latest)
  return model


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


@gin.configurable
def evaluate(
    root_dir: str,
    # Environment
    env_name: str = 'darkroom',
    # Evaluation
    num_episodes: int = 40,
    seeds_per_task: int = 5,
    min_runs: int = 100,
    seed: int = 0,
    ad_dataset_config: Optional[str] = None,
    ed_dataset_config: Optional[str] = None,
    source_factory: Optional[Callable] = ppo.PpoSource,
    source_seeds_per_task: int = 1,
    context_length: Optional[int] = None) -> Dict[str, object]:
  """Evaluates every trained method on held-out tasks; returns (and writes) the results."""
  ad_dataset_config = ad_dataset_config or env_name
  ed_dataset_config = ed_dataset_config or f'{env_name}_expert'
  context_length = context_length or gin.query_parameter('train.context_length')
  env = ad_tf.envs.load_batched(env_name)
  test_tasks = ad_tf.envs.held_out_tasks(env_name, min_runs, seed)
  per_task = max(seeds_per_task, -(-min_runs // len(test_tasks)))
  runs = [(task, s) for s in range(per_task) for task in test_tasks]
  oracles = np.array([ad_tf.envs.oracle_return(env_name, task) for task, _ in runs])
  stacked = ad_tf.envs.stack_tasks(env_name, [task for task, _ in runs])
  env_seeds = np.array([seed * 100_003 + s * 1_009 + i for i, (_, s) in enumerate(runs)])
  results = {'env': env_name, 'num_test_tasks': len(test_tasks), 'num_runs': len(runs),
             'tasks': [{k: v.tolist() for k, v in t.items()} for t in test_tasks],
             'oracle_per_task': [ad_tf.envs.oracle_return(env_name, t) for t in test_tasks],
             'context_length': context_length, 'methods': {}}
  for method, config in (('AD', ad_dataset_config), ('ED', ed_dataset_config)):
    model = load_model(root_dir, config, env_name, context_length)
    if model is None:
      logging.warning('%s: no trained model for %s; skipped.', method, config)
      continue
    returns = in_context.rollout(model, env, stacked, env_seeds, num_episodes, context_length,
                                 policy_seeds=env_seeds + 7)
    results['methods'][method] = {'dataset_config': config, 'checkpoint': latest_checkpoint(
        root_dir, config), **curve_summary(returns, oracles)}
    logging.info('%s final-episode return / oracle: %.3f', method,
                 results['methods'][method]['final_episode_normalised'])
  if source_factory is not None:
    source = source_factory(env_name=env_name)
    source_runs = [(task, s) for s in range(source_seeds_per_task) for task in test_tasks]
    groups = source.learn_in_groups([task for task, _ in source_runs],
                                    [10_000 + s for _, s in source_runs])
    curves = [histories.returns().mean(0) for learned in groups for histories in learned]
    source_oracles = np.array([ad_tf.envs.oracle_return(env_name, t) for t, _ in source_runs])
    results['methods']['source'] = {
        'algorithm': source.name, 'num_actors': source.num_actors,
        'learner_episodes_per_index': source.num_actors,
        **curve_summary(np.stack(curves), source_oracles)}
  for summary in results['methods'].values():
    summary['episodes_to_0.8_oracle'] = episodes_to_fraction(summary['normalised_mean'], 0.8)
  results['data_efficiency'] = data_efficiency(results['methods'])
  write_results(root_dir, results)
  return results


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


def write_results(root_dir: str, results: Dict[str, object]) -> None:
  """results.json and a return-vs-episode plot of every method in root_dir/eval."""
  directory = os.path.join(root_dir, 'eval')
  os.makedirs(directory, exist_ok=True)
  with open(os.path.join(directory, 'results.json'), 'w') as f:
    json.dump(results, f, indent=1)
  figure, axis = plt.subplots(figsize=(6, 4), dpi=100)
  for name, summary in results['methods'].items():
    mean, std = np.array(summary['normalised_mean']), np.array(summary['normalised_std'])
    episodes = np.arange(1, len(mean) + 1)
    label = f'{name} ({summary["num_runs"]} runs)'
    if name == 'source':
      label = f'source {summary["algorithm"]}, per actor ({summary["num_actors"]} actors)'
    axis.plot(episodes, mean, label=label)
    axis.fill_between(episodes, mean - std / np.sqrt(summary['num_runs']),
                      mean + std / np.sqrt(summary['num_runs']), alpha=0.2)
  axis.axhline(1.0, color='grey', linestyle=':', label='oracle')
  axis.set_xlabel('episode')
  axis.set_ylabel('return / oracle (held-out tasks)')
  axis.set_title(f'{results["env"]}: in-context learning, mean ± s.e.')
  axis.set_ylim(-0.05, 1.1)
  axis.legend(loc='lower right', fontsize=8)
  figure.tight_layout()
  figure.savefig(os.path.join(directory, 'returns.png'))
  plt.close(figure)


def results_table(results: Dict[str, object]) -> str:
  """A plain-text table of the headline figures of every method."""
  lines = [f'{results["env"]}: {results["num_runs"]} runs on {results["num_test_tasks"]} '
           f'held-out tasks (context {results["context_length"]} steps)',
           f'{"method":<8} {"episodes":>8} {"final return":>13} {"final / oracle":>15} '
           f'{"first ep. >= 0.8 oracle":>24}']
  for name, summary in results['methods'].items():
    reached = summary['episodes_to_0.8_oracle']
    if name == 'source' and reached is not None:
      reached = (f'{reached} per actor = {reached * summary["learner_episodes_per_index"]} '
                 'learner episodes')
    lines.append(f'{name:<8} {len(summary["mean"]):>8} {summary["mean"][-1]:>13.2f} '
                 f'{summary["final_episode_normalised"]:>15.3f} {str(reached or "never"):>24}')
  efficiency = results.get('data_efficiency')
  if efficiency and efficiency['ratio'] is not None:
    lines.append(f'Episodes to 0.8 x oracle: AD {efficiency["ad_episodes"]}, source '
                 f'{efficiency["source_learner_episodes"]} (its learner\'s episodes, all actors): '
                 f'{efficiency["ratio"]:.1f}x fewer for AD.')
  return '\n'.join(lines)
