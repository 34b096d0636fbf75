"""Trains RL² online on the training tasks: one trial of K episodes per row and PPO iteration.

Every iteration draws `trials_per_iteration` training tasks (from (seed, iteration) alone), plays
one trial of `episodes_per_trial` episodes on each with the current policy, and takes one PPO
update on the whole batch, all in one `tf.function`. Checkpoints (networks, optimizer, iteration,
wall time) go to root_dir/rl2/checkpoints; a re-run resumes from the last one and computes
exactly what an uninterrupted run would, because each iteration's tasks, environment draws and
actions are functions of the seed and the iteration. Every `eval_every` iterations the policy
plays trials on held-out tasks: that curve over training env steps goes to metrics.jsonl and
TensorBoard. At the end the policy is saved with tf_agents' `PolicySaver` (its LSTM state is the
policy state) to root_dir/rl2/policy, and the record (`experiment.Rl2Record`) beside it.
"""

import dataclasses
import json
import os
import shutil
import time
from typing import Optional

from absl import logging
import gin
import numpy as np
import tensorflow as tf
from tf_agents.policies import policy_saver

import ad_tf.envs
from ad_tf import experiment
from ad_tf.rl2 import agent as agent_lib
from ad_tf.rl2 import trials

#: The plot of the training curve, beside metrics.jsonl.
TRAINING_CURVE_FILE = 'training_curve.png'
#: Seconds between progress lines.
PROGRESS_EVERY_S = 30.0
# Salts of the training draws, so tasks, environment draws and actions never share a stream.
_TASK_SALT, _ENV_SALT, _ACTION_SALT = 20_161, 20_162, 20_163


class Rl2Error(ValueError):
  """Bad RL² settings, raised before anything is trained."""


@gin.configurable
def train_rl2(
    root_dir: str,
    env_name: str = 'darkroom',
    # Trials (paper, Appendix N, Table 6: 10 episodes per trial, batch 256).
    episodes_per_trial: int = 10,
    trials_per_iteration: int = 256,
    minibatches: int = 1,
    num_iterations: int = 4_000,
    num_train_tasks: Optional[int] = None,
    reward_scale: float = 1.0,
    seed: int = 0,
    # In-training evaluation on held-out tasks (the curve over training env steps).
    eval_every: int = 100,
    eval_split: str = 'test',
    eval_runs: int = 200,
    eval_max_tasks: Optional[int] = None,
    # Execution
    checkpoint_every: int = 50) -> str:
  """Trains (or resumes training) RL² on `env_name`; returns the saved policy's directory.

  PPO takes `hyperparameters.num_epochs` passes over each iteration's trials, each pass in
  `minibatches` updates on disjoint slices of the trials (1: one update on all of them per pass,
  which is TF-Agents' own `PPOAgent.train`).

  PPO learns from the rewards times `reward_scale` (a trial's return can be ~100 rewards, which
  an LSTM critic starting near 0 takes thousands of Adam steps to reach; metrics and the
  evaluation count the environment's own rewards).

  Each iteration's trials play fresh draws from the whole training split, or, with
  `num_train_tasks` = n, from a fixed pool of n training tasks drawn once from the seed.
  """
  _check_settings(env_name, episodes_per_trial, trials_per_iteration, num_iterations,
                  eval_every, checkpoint_every, num_train_tasks, reward_scale, minibatches)
  env = ad_tf.envs.load_batched(env_name)
  steps_per_iteration = trials_per_iteration * episodes_per_trial * env.episode_length
  params = agent_lib.hyperparameters()
  # What this training is, the record of its policy once saved (wall time and gin config aside).
  wanted = experiment.Rl2Record(
      env_name=env_name, episodes_per_trial=episodes_per_trial,
      trials_per_iteration=trials_per_iteration, minibatches=minibatches,
      reward_scale=reward_scale, num_iterations=num_iterations,
      env_steps=num_iterations * steps_per_iteration, num_train_tasks=num_train_tasks,
      agent=params, seed=seed)
  record = experiment.read_rl2_record(root_dir)
  policy_dir = experiment.rl2_policy_dir(root_dir)
  if (record is not None and os.path.exists(policy_dir)
      and dataclasses.replace(record, wall_time_s=0.0, gin_config='') == wanted):
    logging.info('RL² is trained (%d iterations); its policy is in %s.', num_iterations,
                 policy_dir)
    return policy_dir

  agent = agent_lib.build(env_name, params, seed, epochs_per_train=1 if minibatches > 1 else None)
  iteration = tf.Variable(0, dtype=tf.int64, name='iteration')
  wall_time = tf.Variable(0.0, dtype=tf.float64, name='wall_time_s')
  checkpoint = tf.train.Checkpoint(agent=agent, iteration=iteration, wall_time=wall_time)
  manager = tf.train.CheckpointManager(checkpoint, experiment.rl2_checkpoint_dir(root_dir),
                                       max_to_keep=2)
  if manager.latest_checkpoint:
    checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    logging.info('RL²: resumed from %s (iteration %d).', manager.latest_checkpoint,
                 int(iteration.numpy()))
  directory = experiment.rl2_dir(root_dir)
  os.makedirs(directory, exist_ok=True)
  writer = tf.summary.create_file_writer(os.path.join(directory, experiment.TENSORBOARD_DIR))
  metrics_path = os.path.join(directory, experiment.METRICS_FILE)
  policy = agent.collect_policy
  logits_fn = trials.policy_logits(policy)

  @tf.function
  def train_iteration(tasks, env_seeds, row_seeds, first_step):
    trial = trials.play(env, env.initial_state(tasks, env_seeds), logits_fn,
                        policy.get_initial_state(tf.shape(row_seeds)[0]), row_seeds,
                        episodes_per_trial, first_step)
    experience = trials.experience(trial)
    experience = experience._replace(reward=experience.reward * reward_scale)
    if minibatches == 1:
      loss = agent.train(experience).loss
    else:  # num_epochs passes, each over `minibatches` slices (the agent takes 1 epoch each).
      size = trials_per_iteration // minibatches
      losses = []
      for _ in range(params['num_epochs']):
        for m in range(minibatches):
          losses.append(agent.train(tf.nest.map_structure(
              lambda x, m=m: x[m * size:(m + 1) * size], experience)).loss)
      loss = tf.reduce_mean(losses)
    return trials.episode_returns(trial['rewards'], env.episode_length), loss

  evaluate_policy = _held_out_evaluation(env, env_name, logits_fn, policy, episodes_per_trial,
                                         eval_split, eval_runs, eval_max_tasks, seed)
  start, start_iteration = time.monotonic(), int(iteration.numpy())
  last_log, base_wall_time = start, float(wall_time.numpy())
  while int(iteration.numpy()) < num_iterations:
    current = int(iteration.numpy())
    tasks, oracles, env_seeds, row_seeds = _iteration_draws(env_name, seed, current,
                                                            trials_per_iteration, num_train_tasks)
    with writer.as_default(step=current):
      returns, loss = train_iteration(tasks, env_seeds, row_seeds,
                                      tf.constant(current * steps_per_iteration, tf.int64))
    iteration.assign_add(1)
    done = current + 1
    now = time.monotonic()
    wall_time.assign(base_wall_time + now - start)
    row_returns = returns.numpy()
    returns = row_returns.mean(0)
    record_line = {'iteration': done, 'env_steps': done * steps_per_iteration,
                   'loss': float(loss), 'train_episode_returns': returns.tolist(),
                   'train_normalised_mean': (row_returns / oracles[:, None]).mean(0).tolist(),
                   'wall_time_s': float(wall_time.numpy())}
    if done % eval_every == 0 or done == num_iterations:
      curve = evaluate_policy()
      record_line['eval_normalised_mean'] = curve.tolist()
      logging.info('RL² iteration %d: held-out return / oracle by episode: %s', done,
                   ' '.join(f'{x:.2f}' for x in curve))
    with writer.as_default(step=done * steps_per_iteration):
      tf.summary.scalar('rl2/train_return_first_episode', returns[0])
      tf.summary.scalar('rl2/train_return_last_episode', returns[-1])
      tf.summary.scalar('rl2/train_normalised_last_episode',
                        record_line['train_normalised_mean'][-1])
      tf.summary.scalar('rl2/loss', record_line['loss'])
      if 'eval_normalised_mean' in record_line:
        tf.summary.scalar('rl2/held_out_normalised_last_episode',
                          record_line['eval_normalised_mean'][-1])
    with open(metrics_path, 'a') as f:
      f.write(json.dumps(record_line) + '\n')
    if done % checkpoint_every == 0 or done == num_iterations:
      manager.save(checkpoint_number=done)
    if now - last_log >= PROGRESS_EVERY_S or done == num_iterations:
      rate = (done - start_iteration) * steps_per_iteration / (now - start)
      logging.info('RL² iteration %d/%d | %.0f env steps/s | trial return by episode %s | '
                   'loss %.3f | ETA %.0f s', done, num_iterations, rate,
                   ' '.join(f'{x:.2f}' for x in returns), record_line['loss'],
                   (num_iterations - done) * steps_per_iteration / rate)
      last_log = now
  writer.flush()
  plot_training_curve(metrics_path, os.path.join(directory, TRAINING_CURVE_FILE), env_name)
  _save_policy(policy, agent.train_step_counter, policy_dir)
  experiment.write_rl2_record(root_dir, dataclasses.replace(
      wanted, wall_time_s=float(wall_time.numpy()), gin_config=gin.config_str()))
  return policy_dir


def plot_training_curve(metrics_path: str, path: str, env_name: str) -> None:
  """Return / oracle at the first and last episode of a trial over training env steps: on the
  training trials and on the held-out evaluations."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  with open(metrics_path) as f:
    lines = [json.loads(line) for line in f]
  steps = np.array([line['env_steps'] for line in lines])
  train = np.array([line['train_normalised_mean'] for line in lines])
  held_out = [(line['env_steps'], line['eval_normalised_mean']) for line in lines
              if 'eval_normalised_mean' in line]
  figure, axis = plt.subplots(figsize=(7, 4), dpi=100)
  smooth = lambda x: np.convolve(x, np.ones(min(20, len(x))) / min(20, len(x)), mode='valid')
  offset = len(steps) - len(smooth(train[:, 0]))
  axis.plot(steps[offset:], smooth(train[:, -1]), color='C0',
            label=f'training tasks, episode {train.shape[1]}')
  axis.plot(steps[offset:], smooth(train[:, 0]), color='C0', linestyle=':',
            label='training tasks, episode 1')
  if held_out:
    x, curves = zip(*held_out)
    curves = np.array(curves)
    axis.plot(x, curves[:, -1], 'o-', color='C1',
              label=f'held-out tasks, episode {curves.shape[1]}')
    axis.plot(x, curves[:, 0], 'o:', color='C1', label='held-out tasks, episode 1')
  axis.set_xlabel('training env steps')
  axis.set_ylabel('return / oracle')
  axis.set_ylim(-0.05, 1.05)
  axis.set_title(f'RL² on {env_name}: trials during training', fontsize=10)
  axis.legend(loc='best', fontsize=8)
  figure.tight_layout()
  figure.savefig(path)
  plt.close(figure)


def _check_settings(env_name: str, episodes_per_trial: int, trials_per_iteration: int,
                    num_iterations: int, eval_every: int, checkpoint_every: int,
                    num_train_tasks: Optional[int], reward_scale: float,
                    minibatches: int) -> None:
  ad_tf.envs.get_family(env_name)  # One error listing the known environments.
  if reward_scale <= 0:
    raise Rl2Error(f'train_rl2.reward_scale={reward_scale} must be > 0.')
  if minibatches < 1 or trials_per_iteration % minibatches:
    raise Rl2Error(f'train_rl2.minibatches={minibatches} must be >= 1 and divide '
                   f'trials_per_iteration={trials_per_iteration}.')
  if num_train_tasks is not None and num_train_tasks < 1:
    raise Rl2Error(f'train_rl2.num_train_tasks={num_train_tasks} must be >= 1, or None for '
                   'fresh draws from the whole training split.')
  for name, value in [('episodes_per_trial', episodes_per_trial),
                      ('trials_per_iteration', trials_per_iteration),
                      ('num_iterations', num_iterations), ('eval_every', eval_every),
                      ('checkpoint_every', checkpoint_every)]:
    if value < 1:
      raise Rl2Error(f'train_rl2.{name}={value} must be >= 1.')


def _iteration_draws(env_name: str, seed: int, iteration: int, rows: int,
                     num_train_tasks: Optional[int] = None):
  """The tasks (stacked), their oracle returns, environment seeds and action seeds of one
  iteration: functions of (seed, iteration) alone."""
  if num_train_tasks is None:
    tasks = ad_tf.envs.sample_tasks(env_name, 'train', rows, [seed, _TASK_SALT, iteration])
  else:
    pool = ad_tf.envs.sample_tasks(env_name, 'train', num_train_tasks, [seed, _TASK_SALT])
    picks = np.random.default_rng([seed, _TASK_SALT, iteration]).integers(0, len(pool), rows)
    tasks = [pool[i] for i in picks]
  stacked = {k: tf.constant(v) for k, v in ad_tf.envs.stack_tasks(env_name, tasks).items()}
  base = (np.int64(seed) * 1_000_003 + iteration) * rows
  rows_range = np.arange(rows, dtype=np.int64)
  oracles = np.array([ad_tf.envs.oracle_return(env_name, task) for task in tasks])
  return (stacked, oracles, tf.constant(base * 7 + _ENV_SALT + rows_range),
          tf.constant(base * 11 + _ACTION_SALT + rows_range))


def _held_out_evaluation(env, env_name: str, logits_fn, policy, episodes_per_trial: int,
                         split: str, num_runs: int, max_tasks: Optional[int], seed: int):
  """() -> [episodes] the in-process policy's mean return / oracle per episode of a trial, on
  `num_runs` runs of held-out tasks (the same runs at every evaluation)."""
  tasks = ad_tf.envs.held_out_tasks(env_name, num_runs, seed, split, max_tasks)
  tasks = [tasks[i % len(tasks)] for i in range(max(num_runs, len(tasks)))]
  oracles = np.array([ad_tf.envs.oracle_return(env_name, task) for task in tasks])
  stacked = {k: tf.constant(v) for k, v in ad_tf.envs.stack_tasks(env_name, tasks).items()}
  seeds = tf.constant(np.arange(len(tasks), dtype=np.int64) + 1_000_000 * (seed + 1))

  @tf.function
  def play():
    trial = trials.play(env, env.initial_state(stacked, seeds), logits_fn,
                        policy.get_initial_state(len(tasks)), seeds + 7, episodes_per_trial)
    return trials.episode_returns(trial['rewards'], env.episode_length)

  return lambda: (play().numpy() / oracles[:, None]).mean(0)


def _save_policy(policy, train_step: tf.Variable, policy_dir: str) -> None:
  """PolicySaver's SavedModel, written beside its final place and renamed into it."""
  staging = f'{policy_dir}.tmp'
  shutil.rmtree(staging, ignore_errors=True)
  policy_saver.PolicySaver(policy, batch_size=None, train_step=train_step).save(staging)
  shutil.rmtree(policy_dir, ignore_errors=True)
  os.replace(staging, policy_dir)
  logging.info('RL² policy saved to %s.', policy_dir)
