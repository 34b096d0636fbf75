"""Runs the source algorithm on sampled training tasks and writes `ad_histories/<config>`."""

import json
import os
import queue
import threading
import time
from typing import Callable, List, Optional
import uuid

from absl import logging
import gin
import numpy as np
import tensorflow as tf

import ad_tf.envs
from ad_tf import experiment
from ad_tf.envs import counter_random
from ad_tf.generation import rlds_episodes
from ad_tf.generation import sharded_writer
from ad_tf.sources import ppo
from ad_tf_datasets.ad_histories import ad_histories
from tensorflow_datasets.rlds import rlds_base

# Salt of the hash that gives each task its own seed.
_TASK_SEED_SALT = 1


class GenerationError(ValueError):
  """Bad input to generation, raised before any work is done."""


def task_seed(seed: int, task_index: int) -> int:
  return int(counter_random.hash_np(seed, task_index, _TASK_SEED_SALT) % 2**31)


@gin.configurable
def generate(
    root_dir: str,
    task_shard: int = 0,
    num_task_shards: int = 1,
    # Environment
    env_name: str = 'darkroom',
    # Dataset
    num_tasks: int = 100,
    seed: int = 0,
    subsample_every: int = 1,
    expert: bool = False,
    expert_episodes: int = 10,
    with_expert: bool = False,
    # Source agent
    source_factory: Callable = ppo.PpoSource,
    # Execution
    runner: str = 'local',
    beam_pipeline_options: str = '') -> Optional[str]:
  """Writes the learning histories of `num_tasks` training tasks into root_dir/tfds.

  Re-running with the same arguments resumes: finished tasks are skipped, and the result is
  identical to an uninterrupted run. `task_shard`/`num_task_shards` split the tasks between
  processes (task i belongs to shard i mod n); the last process to finish makes the dataset
  loadable.

  Args:
    root_dir: the experiment directory; the dataset goes to root_dir/tfds/ad_histories/.
    task_shard: which part of the tasks this process generates.
    num_task_shards: into how many parts the tasks are split.
    env_name: environment, one of `ad_tf.envs.ENV_NAMES`.
    num_tasks: training tasks, sampled from the train split (balanced over it).
    seed: seeds task sampling and every task's source run.
    subsample_every: keep every k-th episode of each history (paper, Appendix I).
    expert: write `<env>_expert`: only the last `expert_episodes` of each history (ED baseline).
    expert_episodes: episodes of the converged policy kept per history when `expert`.
    with_expert: also write `<env>_expert` from the same source runs (one pass for both
      datasets; the expert dataset is identical to a separate `expert=True` run's).
    source_factory: builds the source algorithm for `env_name`.
    runner: 'local' (this process, or its --task_shard part) or 'beam': an Apache Beam pipeline
      with one element per `tasks_per_call` tasks (`beam_generation`); the dataset is the same
      bytes either way.
    beam_pipeline_options: the Beam runner's options, as on a command line (e.g.
      '--direct_num_workers=2 --direct_running_mode=multi_processing').

  Returns:
    The dataset's version directory if the dataset is complete, else None (other shards pending).
  """
  _check_arguments(root_dir, task_shard, num_task_shards, env_name, num_tasks,
                   subsample_every, expert_episodes, runner)
  if runner == 'beam':
    from ad_tf.generation import beam_generation  # pylint: disable=import-outside-toplevel
    return beam_generation.run(
        dict(root_dir=root_dir, env_name=env_name, num_tasks=num_tasks, seed=seed,
             subsample_every=subsample_every, expert=expert, expert_episodes=expert_episodes,
             with_expert=with_expert, source_factory=source_factory),
        beam_pipeline_options)
  plan = GenerationPlan(root_dir, env_name, num_tasks, seed, subsample_every, expert,
                        expert_episodes, with_expert, source_factory)
  plan.discard_bad_shards(task_shard, num_task_shards)
  todo = plan.todo(task_shard, num_task_shards)
  plan.log_todo(todo)
  plan.run_tasks(todo)
  if plan.finalize():
    return plan.version_dir
  logging.info('This shard is done; the other shards are still pending.')
  return None


class GenerationPlan:
  """What one generation writes: its datasets (the histories, and the expert set with
  `with_expert`), the sampled tasks, the source, and one sharded writer per unfinished dataset.

  Building a plan claims the datasets' `generation.json` (or checks an existing one). Any number
  of processes may hold a plan for the same datasets at once (task shards, Beam workers): they
  write disjoint or identical shards, each atomically.
  """

  def __init__(self, root_dir: str, env_name: str, num_tasks: int, seed: int,
               subsample_every: int, expert: bool, expert_episodes: int, with_expert: bool,
               source_factory: Callable):
    self.source = source_factory(env_name=env_name)
    self.num_tasks = num_tasks
    generation = {
        'dataset_config': env_name + (ad_histories.EXPERT_SUFFIX if expert else ''),
        'env_name': env_name, 'num_tasks': num_tasks,
        'seed': seed, 'subsample_every': subsample_every, 'expert': expert,
        'expert_episodes': expert_episodes if expert else None, 'source': self.source.name,
        'source_hyperparameters': self.source.hyperparameters,
    }
    revision = ad_tf.envs.get_family(env_name).revision
    if revision is not None:
      generation['env_revision'] = revision
    self.generations = [generation]
    if with_expert and not expert:  # Exactly what a separate `expert=True` run would write.
      self.generations.append({
          **generation, 'dataset_config': env_name + ad_histories.EXPERT_SUFFIX,
          'subsample_every': 1, 'expert': True, 'expert_episodes': expert_episodes})
    for each in self.generations:
      _claim_or_check(experiment.dataset_dir(root_dir, each['dataset_config']), each)
    self.version_dir = experiment.dataset_dir(root_dir, generation['dataset_config'])
    self.tasks = ad_tf.envs.sample_tasks(env_name, 'train', num_tasks, seed)
    self.writers = []
    self._complete = []  # Datasets complete when the plan was made: (generation, writer).
    for each in self.generations:
      config_name = each['dataset_config']
      version_dir = experiment.dataset_dir(root_dir, config_name)
      builder = ad_histories.AdHistories(config=config_name,
                                         data_dir=experiment.tfds_dir(root_dir))
      info = rlds_base.build_info(
          ad_histories.dataset_config(config_name, _description(each, self.source)), builder,
          ds_metadata={'generation': each})
      writer = sharded_writer.ShardedWriter(info, version_dir, num_shards=num_tasks)
      if _is_complete(version_dir):
        self._complete.append((each, writer))
      else:
        self.writers.append((each, writer))

  def discard_bad_shards(self, task_shard: int = 0, num_task_shards: int = 1) -> int:
    """Checks the done shards of this task shard against their records (size and SHA-256) in
    every dataset, complete ones too; removes the bad ones so that they are generated again (a
    dataset that had one is no longer complete). Returns how many were removed."""
    shards = [i for i in range(self.num_tasks) if i % num_task_shards == task_shard]
    removed = 0
    for _, writer in self.writers + self._complete:
      removed += len(writer.discard_bad_shards(shards))
    for each, writer in list(self._complete):
      if _is_complete(writer.version_dir):
        logging.info('ad_histories/%s is already complete in %s.', each['dataset_config'],
                     writer.version_dir)
      else:
        self._complete.remove((each, writer))
        self.writers.append((each, writer))
    return removed

  def todo(self, task_shard: int = 0, num_task_shards: int = 1) -> List[int]:
    """The tasks of shard `task_shard` (task i is in shard i mod n) that some dataset lacks."""
    return [i for i in range(self.num_tasks) if i % num_task_shards == task_shard
            and not all(writer.is_done(i) for _, writer in self.writers)]

  def log_todo(self, todo: List[int]) -> None:
    for each, writer in self.writers:
      logging.info('ad_histories/%s: %d of %d tasks to generate here (%d already done).',
                   each['dataset_config'], len(todo), self.num_tasks, writer.num_done())

  def run_tasks(self, todo: List[int]) -> None:
    _run_tasks(todo, self.tasks, self.source, self.writers)

  def finalize(self) -> bool:
    """Writes the metadata of every dataset whose shards are all done; whether all are done."""
    complete = True
    for each, writer in self.writers:
      if writer.finalize():
        logging.info('ad_histories/%s complete.', each['dataset_config'])
      else:
        complete = False
    return complete


def _is_complete(version_dir: str) -> bool:
  return tf.io.gfile.exists(os.path.join(version_dir, 'dataset_info.json'))


def _run_tasks(todo, tasks, source, writers) -> None:
  """Runs the source on `source.tasks_per_call` tasks at a time while a writer thread
  serializes the previous ones.

  Every task's source run is written to each (generation, writer) that lacks it.
  """
  if not todo:
    return
  # One call's histories wait to be written while the next call runs: memory stays flat.
  pending = queue.Queue(maxsize=len(writers) * source.tasks_per_call)
  failure = []

  def write_loop():
    while (item := pending.get()) is not None:
      if not failure:
        try:
          item[0].write_shard(item[1], item[2])
        except Exception as error:  # pylint: disable=broad-except
          failure.append(error)

  thread = threading.Thread(target=write_loop, daemon=True)
  thread.start()
  start, done = time.time(), 0
  seeds = [task_seed(writers[0][0]['seed'], task_index) for task_index in todo]
  env_family = ad_tf.envs.get_family(writers[0][0]['env_name'])
  observation_dtype = env_family.spec.observation.dtype
  try:
    for learned in source.learn_in_groups([tasks[task_index] for task_index in todo], seeds):
      group = slice(done, done + len(learned))
      for task_index, seed, histories in zip(todo[group], seeds[group], learned):
        for generation, writer in writers:
          if writer.is_done(task_index):
            continue
          kept = _kept_episodes(histories.num_episodes, generation)
          selected = histories.select_episodes(kept)
          # A source that read a privileged state recorded it; the dataset holds observations.
          selected.observations = env_family.observations_of(selected.observations)
          pending.put((writer, task_index, rlds_episodes.episodes(
              selected, kept, observation_dtype=observation_dtype,
              task=tasks[task_index],
              task_index=task_index, seed=seed, source=source.name,
              first_history_id=task_index * source.num_actors)))
      done += len(learned)
      elapsed = time.time() - start
      logging.info('task %d/%d done | %.0f env steps/s | ETA %.0f s', done, len(todo),
                   done * source.env_steps_per_task / elapsed,
                   elapsed / done * (len(todo) - done))
      if failure:  # Checked before the next call learns anything.
        break
  finally:
    pending.put(None)
    thread.join()
  if failure:
    raise failure[0]


def _kept_episodes(num_episodes: int, generation) -> np.ndarray:
  """Which of a history's episodes a dataset keeps."""
  kept = np.arange(num_episodes)
  if generation['expert']:
    kept = kept[-generation['expert_episodes']:]
  return kept[::generation['subsample_every']]


def _description(generation, source) -> str:
  kind = ('the converged policy\'s last {expert_episodes} episodes of each history (ED)'
          if generation['expert'] else 'whole learning histories, from random to good')
  return (
      f'Algorithm Distillation source data for {generation["env_name"]}: '
      f'{kind.format(**generation)}. Source: {source.name} '
      f'({json.dumps(source.hyperparameters, sort_keys=True)}) on {generation["num_tasks"]} '
      f'training tasks x {source.num_actors} actors = '
      f'{generation["num_tasks"] * source.num_actors} histories, keeping every '
      f'{generation["subsample_every"]}-th episode; seed {generation["seed"]}. '
      'Made by ad_tf.bin.generate; one RLDS episode per environment episode.')


RUNNERS = ('local', 'beam')


def _check_arguments(root_dir, task_shard, num_task_shards, env_name, num_tasks,
                     subsample_every, expert_episodes, runner='local') -> None:
  if runner not in RUNNERS:
    raise GenerationError(f'Unknown runner {runner!r} (--runner); known runners are {RUNNERS}.')
  if runner == 'beam' and num_task_shards != 1:
    raise GenerationError('--runner=beam spreads the tasks over Beam workers itself; drop '
                          '--task_shard/--num_task_shards.')
  if env_name not in ad_tf.envs.ENV_NAMES:
    raise GenerationError(f'Unknown env_name {env_name!r} (generate.env_name); known '
                          f'environments are {ad_tf.envs.ENV_NAMES}.')
  if not 0 <= task_shard < num_task_shards:
    raise GenerationError(f'--task_shard={task_shard} must be in 0..{num_task_shards - 1} '
                          f'for --num_task_shards={num_task_shards}.')
  for name, value in (('num_tasks', num_tasks), ('subsample_every', subsample_every),
                      ('expert_episodes', expert_episodes)):
    if value < 1:
      raise GenerationError(f'generate.{name} = {value} must be >= 1.')
  try:
    tf.io.gfile.makedirs(root_dir)
    probe = os.path.join(root_dir, f'.write_probe.{uuid.uuid4().hex}')
    with tf.io.gfile.GFile(probe, 'w') as f:
      f.write('ok')
    tf.io.gfile.remove(probe)
  except (OSError, tf.errors.OpError) as error:
    reason = getattr(error, 'strerror', None) or getattr(error, 'message', str(error))
    raise GenerationError(f'--root_dir={root_dir} is not writable ({reason}); pass a '
                          'directory you can write to.') from None


def _claim_or_check(version_dir: str, generation: dict) -> None:
  """Records how this dataset is made, or checks an existing one was made the same way.

  Safe when several processes claim at once: each writes its own temporary file, the first to
  link it into place wins (an atomic create-if-absent), and every process then compares its
  configuration with the winner's.
  """
  path = os.path.join(version_dir, 'generation.json')
  canonical = json.loads(json.dumps(generation))
  if not tf.io.gfile.exists(path):
    tf.io.gfile.makedirs(version_dir)
    sharded_writer.create_if_absent(path, json.dumps(canonical, indent=1, sort_keys=True))
  with tf.io.gfile.GFile(path) as f:
    existing = json.load(f)
  if existing != canonical:
    differences = sorted(k for k in set(existing) | set(canonical)
                         if existing.get(k) != canonical.get(k))
    raise GenerationError(
        f'{version_dir} holds a dataset made with a different configuration (differs in: '
        f'{", ".join(differences)}). Use another --root_dir, or delete that directory to '
        'regenerate it.')
