"""Trains the AD transformer on across-episode windows of `ad_histories` (paper's Eq. 6).

A custom loop under any `tf.distribute` strategy: the global batch is split across replicas, the
loss is the NLL of the source's actions only (optionally label-smoothed), averaged over all
tokens of the global batch; gradients are aggregated before global-norm clipping, so any number
of replicas computes the same update. Checkpoints (model, optimizer, step and the input
iterator) go to root_dir/train/<dataset_config>/checkpoints; re-running resumes from the last one
and sees the same data an uninterrupted run would. TensorBoard scalars and metrics.jsonl sit
beside them.
"""

import json
import os
import time
from typing import Callable, Optional

from absl import logging
import gin
import tensorflow as tf

import ad_tf.envs
from ad_tf import experiment
from ad_tf.data import history_windows
from ad_tf.model import loading
from ad_tf.train import state_regression as state_regression_lib
from ad_tf.train import strategy as strategy_lib


IMITATION_TARGETS = ('action', 'policy')


class TrainingError(ValueError):
  """Bad training input, raised before training starts."""


@gin.configurable
def train(
    root_dir: str,
    strategy: Optional[tf.distribute.Strategy] = None,
    # Environment and data
    env_name: str = 'darkroom',
    dataset_config: str = 'darkroom',
    context_length: int = 80,
    # Model
    seed: int = 0,
    # Optimizer (paper, Appendix L, Table 2)
    batch_size: int = 128,
    num_steps: int = 20_000,
    warmup_steps: int = 1_000,
    initial_learning_rate: float = 2e-6,
    peak_learning_rate: float = 3e-4,
    adam_beta_1: float = 0.9,
    adam_beta_2: float = 0.99,
    clip_norm: float = 1.0,
    label_smoothing: float = 0.0,
    search_label_smoothing: float = 0.0,
    imitation_target: str = 'action',
    state_regression_weight: float = 0.0,
    state_regression_batch: int = 64,
    # Execution
    log_every: int = 100,
    checkpoint_every: int = 1_000) -> str:
  """Trains (or resumes training) the AD transformer; returns the checkpoint directory.

  `imitation_target` is what the loss imitates at every step: 'action', the NLL of the action
  the source took (the paper), or 'policy', the cross-entropy with the distribution the source
  drew it from (`action_probs` in the dataset): the same optimum, without fitting the noise of
  which action a random policy happened to draw.

  `label_smoothing` smooths the target at every step; `search_label_smoothing` only at the steps
  whose context holds no reward yet (the source is still searching, as far as the model can
  tell), so the distilled search is more spread out while the exploitation of a reward in view is
  imitated as it was.

  `state_regression_weight` > 0 adds that times an auxiliary loss: a linear head on the
  observation embedding regresses the source agent's privileged state from
  `state_regression_batch` observations per replica and step that the family draws of states
  spread over the environment (`state_regression`; families with an agent state only).
  """
  strategy = strategy or tf.distribute.get_strategy()
  if imitation_target not in IMITATION_TARGETS:
    raise TrainingError(f'train.imitation_target={imitation_target!r} is not one of '
                        f'{IMITATION_TARGETS}.')
  if not 0.0 <= search_label_smoothing < 1.0:
    raise TrainingError(f'train.search_label_smoothing={search_label_smoothing} must be in [0, 1).')
  if state_regression_weight < 0:
    raise TrainingError(f'train.state_regression_weight={state_regression_weight} must be >= 0.')
  data_dir = experiment.tfds_dir(root_dir)
  builder = history_windows.load_builder(data_dir, dataset_config)
  dataset_env, _, _ = history_windows.history_shape(builder)
  if dataset_env != env_name:
    raise TrainingError(f'ad_histories/{dataset_config} holds {dataset_env!r} data but the model '
                        f'is configured for {env_name!r} (train.env_name); use a gin file for '
                        f'{dataset_env} or another dataset.')
  for name, size in (('batch_size', batch_size),
                     ('state_regression_batch', state_regression_batch if state_regression_weight
                      else 0)):
    if size % strategy.num_replicas_in_sync:
      raise TrainingError(f'train.{name}={size} does not split across '
                          f'{strategy.num_replicas_in_sync} replicas.')
  directory = experiment.train_dir(root_dir, dataset_config)
  with strategy.scope():
    model = loading.configured_model(ad_tf.envs.get_spec(env_name))
    if context_length > model.max_length:
      raise TrainingError(f'train.context_length={context_length} is longer than the model\'s '
                          f'{model.max_length} positions '
                          '(AlgorithmDistillationTransformer.max_length).')
    loading.build_seeded(model, seed, context_length)
    state_regression = None
    if state_regression_weight:
      try:
        state_regression = state_regression_lib.StateRegression(
            ad_tf.envs.get_family(env_name), model, state_regression_batch)
      except ValueError as error:
        raise TrainingError(str(error)) from None
    schedule = tf.keras.optimizers.schedules.CosineDecay(
        initial_learning_rate, decay_steps=max(num_steps - warmup_steps, 1),
        warmup_target=peak_learning_rate, warmup_steps=warmup_steps)
    optimizer = tf.keras.optimizers.Adam(schedule, beta_1=adam_beta_1, beta_2=adam_beta_2,
                                         global_clipnorm=clip_norm)
    optimizer.build(trained_variables(model, state_regression))
    step = tf.Variable(0, dtype=tf.int64, name='step')

  # Every worker reads the same global batches through a plain (checkpointable) iterator and
  # feeds each of its replicas that replica's slice: the data a step sees does not depend on the
  # strategy, and resuming restores the exact position in the stream.
  iterator = iter(history_windows.history_windows(data_dir, dataset_config, batch_size,
                                                  context_length=context_length))
  per_replica = batch_size // strategy.num_replicas_in_sync

  def next_distributed_batch():
    try:
      batch = next(iterator)
    except tf.errors.DataLossError as error:
      raise TrainingError(history_windows.damaged_dataset_message(
          data_dir, dataset_config, error=error)) from None

    def replica_slice(context):
      start = context.replica_id_in_sync_group * per_replica
      return tf.nest.map_structure(lambda x: x[start:start + per_replica], batch)

    return strategy.experimental_distribute_values_from_function(replica_slice)

  chief = strategy_lib.is_chief(strategy)
  checkpoint_dir = (experiment.checkpoint_dir(root_dir, dataset_config) if chief else
                    os.path.join(directory,
                                 f'worker_{strategy_lib.task_index(strategy)}_checkpoints'))
  checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step,
                                   iterator=iterator,
                                   **({'state_regression_head': state_regression.head}
                                      if state_regression else {}))
  manager = tf.train.CheckpointManager(checkpoint, checkpoint_dir, max_to_keep=3)
  if manager.latest_checkpoint:
    checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    logging.info('Resumed from %s at step %d.', manager.latest_checkpoint, int(step.numpy()))
  if chief:
    experiment.write_model_record(root_dir, experiment.ModelRecord(
        env_name=env_name, dataset_config=dataset_config, context_length=context_length,
        model=dict(model.hyperparameters), seed=seed, gin_config=gin.config_str()))
  tokens_per_batch = batch_size * context_length
  train_step = make_train_step(model, optimizer, strategy, step, label_smoothing,
                               tokens_per_batch, imitation_target, search_label_smoothing,
                               state_regression, state_regression_weight)

  writer = tf.summary.create_file_writer(
      os.path.join(directory, experiment.TENSORBOARD_DIR) if chief else
      os.path.join(directory, f'.worker_{strategy_lib.task_index(strategy)}_tensorboard'))
  metrics_path = os.path.join(directory, experiment.METRICS_FILE if chief else
                              f'.worker_{strategy_lib.task_index(strategy)}_metrics.jsonl')
  start_step, start_time = int(step.numpy()), time.time()
  window_start, window_step = time.time(), int(step.numpy())
  while int(step.numpy()) < num_steps:
    loss, accuracy, state_loss = train_step(next_distributed_batch())
    current = int(step.numpy())
    if current % log_every == 0 or current == num_steps:
      now = time.time()
      tokens_per_s = (current - window_step) * tokens_per_batch / (now - window_start)
      eta = (now - start_time) / (current - start_step) * (num_steps - current)
      learning_rate = float(schedule(current - 1))
      record = {'step': current, 'loss': float(loss), 'accuracy': float(accuracy),
                'learning_rate': learning_rate, 'tokens_per_s': tokens_per_s}
      if state_regression:
        record['state_regression_loss'] = float(state_loss)
      logging.info('step %d/%d | loss %.4f | action accuracy %.3f | lr %.2e | %.0f tokens/s | '
                   'ETA %.0f s%s', current, num_steps, record['loss'], record['accuracy'],
                   learning_rate, tokens_per_s, eta,
                   f' | state regression {float(state_loss):.4f}' if state_regression else '')
      with writer.as_default(step=current):
        for name, value in record.items():
          if name != 'step':
            tf.summary.scalar(name, value)
      with open(metrics_path, 'a') as f:
        f.write(json.dumps(record) + '\n')
      window_start, window_step = now, current
    if current % checkpoint_every == 0 or current == num_steps:
      manager.save(checkpoint_number=current)
  writer.flush()
  return checkpoint_dir


def make_train_step(model: tf.keras.Model, optimizer: tf.keras.optimizers.Optimizer,
                    strategy: tf.distribute.Strategy, step: tf.Variable, label_smoothing: float,
                    tokens_per_batch: int, imitation_target: str = 'action',
                    search_label_smoothing: float = 0.0,
                    state_regression: Optional[state_regression_lib.StateRegression] = None,
                    state_regression_weight: float = 0.0) -> Callable:
  """A compiled step: distributed batch -> (global mean imitation loss, action accuracy, mean
  state-regression loss, 0 without one); the update follows the imitation loss plus
  `state_regression_weight` times the state regression's."""
  variables = trained_variables(model, state_regression)
  replicas = strategy.num_replicas_in_sync
  cross_entropy = tf.keras.losses.CategoricalCrossentropy(
      from_logits=True, label_smoothing=label_smoothing,
      reduction=tf.keras.losses.Reduction.NONE)

  def replica_step(inputs, targets):
    actions = targets['action']
    labels = (tf.one_hot(actions, model.num_actions) if imitation_target == 'action'
              else targets['action_probs'])
    if search_label_smoothing:
      labels = smooth_before_first_reward(labels, inputs['prev_reward'], search_label_smoothing)
    with tf.GradientTape() as tape:
      logits = model(inputs, training=True)
      per_token = cross_entropy(labels, logits)
      loss = tf.reduce_sum(per_token) / tokens_per_batch
      state_loss = tf.constant(0.0)
      if state_regression is not None:
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        state_loss = state_regression.loss(step, replica, replicas)
      total = loss + state_regression_weight * state_loss
    gradients = tape.gradient(total, variables)
    optimizer.apply_gradients(zip(gradients, variables))
    correct = tf.reduce_sum(tf.cast(tf.equal(
        tf.argmax(logits, -1, output_type=tf.int32), actions), tf.float32))
    return loss, correct / tokens_per_batch, state_loss

  @tf.function
  def train_step(batch):
    results = strategy.run(replica_step, args=batch)
    step.assign_add(1)
    return tuple(strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                 for value in results)

  return train_step


def trained_variables(model: tf.keras.Model,
                      state_regression: Optional[state_regression_lib.StateRegression] = None):
  """What the optimizer updates: the model's variables and any auxiliary head's."""
  return model.trainable_variables + (state_regression.trainable_variables
                                      if state_regression else [])


def smooth_before_first_reward(labels: tf.Tensor, prev_reward: tf.Tensor,
                               smoothing: float) -> tf.Tensor:
  """labels [B, T, A] smoothed by `smoothing` at the tokens with no reward in tokens 0..t.

  Token t's inputs hold r_{t-1} (`prev_reward` [B, T]), so the tokens 0..t the model attends to
  when it predicts a_t show a reward exactly when the running sum of `prev_reward` is non-zero.
  """
  reward_in_view = tf.math.cumsum(tf.abs(prev_reward), axis=1) > 0
  num_actions = tf.cast(tf.shape(labels)[-1], labels.dtype)
  smoothed = labels * (1.0 - smoothing) + smoothing / num_actions
  return tf.where(reward_in_view[..., None], labels, smoothed)
