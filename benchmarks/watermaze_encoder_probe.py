"""Can Watermaze's image encoder read the agent's pose from a frame? A probe, not AD.

Trains an image encoder (--architecture: the Table 3 `conv` one or the `columns` reader; gin-sized
by --channels, --input_pool, --blocks) and a linear head
to regress (x, y, cos heading, sin heading) from frames of random poses, then reports the
held-out mean squared error per target, normalising the BatchNorm layers with batch statistics
('train' mode) and with their moving averages ('inference', what evaluation uses), beside each
target's variance (what predicting the mean scores).
With --root_dir, it trains nothing: it reads the pose linearly from the observation embedding of
the AD model trained under that root (does AD's encoder, trained on actions, hold the pose?).
Usage: python -m benchmarks.watermaze_encoder_probe [--architecture=conv --channels=16
  --input_pool=2 --blocks=3]
  or: python -m benchmarks.watermaze_encoder_probe --root_dir=R [--dataset_config=watermaze]
Prints one JSON object on its last line.
"""

import time

from absl import app
from absl import flags
import gin
import numpy as np
import tensorflow as tf

import ad_tf.envs
from ad_tf.envs import watermaze
from ad_tf.model import encoders
from ad_tf.model import loading
from benchmarks import figures as figures_lib

flags.DEFINE_enum('architecture', 'conv', sorted(encoders.IMAGE_ENCODERS),
                  'image_encoder_architecture.architecture.')
flags.DEFINE_integer('channels', 16, 'The encoder\'s channels.')
flags.DEFINE_integer('input_pool', 2, 'The encoder\'s input_pool.')
flags.DEFINE_integer('blocks', 3, 'The encoder\'s num_blocks.')
flags.DEFINE_float('batch_norm_decay', 0.999, 'The conv encoder\'s batch_norm_decay.')
flags.DEFINE_integer('steps', 600, 'Training steps of 64 frames.')
flags.DEFINE_string('root_dir', None, 'Instead of training a probe, read the pose linearly from '
                    'the observation embedding of the AD model trained under this root.')
flags.DEFINE_string('dataset_config', 'watermaze', 'With --root_dir: which trained model.')
FLAGS = flags.FLAGS
TARGETS = ('x', 'y', 'cos_heading', 'sin_heading')


def poses_and_frames(rng: np.random.Generator, n: int):
  radius, angle = np.sqrt(rng.uniform(0, 0.9 ** 2, n)), rng.uniform(-np.pi, np.pi, n)
  heading = rng.uniform(0, 2 * np.pi, n)
  x, y = radius * np.cos(angle), radius * np.sin(angle)
  targets = np.stack([x, y, np.cos(heading), np.sin(heading)], -1).astype(np.float32)
  return watermaze.render_tf(x, y, heading), tf.constant(targets)


def trained_model_readout(root_dir: str, dataset_config: str) -> dict:
  """How much of the pose a trained AD model's observation embedding holds linearly: least
  squares from the frozen embedding (inference mode) of 4,096 frames of random poses to the
  targets, scored on 1,024 others (R^2 and the root mean squared error per target)."""
  restored = loading.restore(root_dir, dataset_config)
  if restored is None:
    raise app.UsageError(f'No trained {dataset_config!r} model under {root_dir}/train.')
  model, record, _ = restored
  rng = np.random.default_rng(0)

  def embedded(n):
    frames, targets = poses_and_frames(rng, n)
    return (np.concatenate([model.step_embedding.observation_embedding(
        frames[i:i + 256], training=False).numpy() for i in range(0, n, 256)]), targets.numpy())

  with_bias = lambda x: np.concatenate([x, np.ones([len(x), 1])], axis=1)
  train_x, train_y = embedded(4096)
  test_x, test_y = embedded(1024)
  weights = np.linalg.lstsq(with_bias(train_x), train_y, rcond=None)[0]
  errors = ((with_bias(test_x) @ weights - test_y) ** 2).mean(axis=0)
  figures = {'root_dir': root_dir, 'dataset_config': dataset_config,
             'observation_encoder': record.model.get('observation_encoder')}
  for target, error, variance in zip(TARGETS, errors, test_y.var(axis=0)):
    figures[f'linear_r2_{target}'] = round(float(1 - error / variance), 3)
    figures[f'linear_rmse_{target}'] = round(float(np.sqrt(error)), 4)
  return figures


def main(argv):
  del argv
  if FLAGS.root_dir:
    figures_lib.report(trained_model_readout(FLAGS.root_dir, FLAGS.dataset_config))
    return
  sizes = [('channels', FLAGS.channels), ('input_pool', FLAGS.input_pool),
           ('num_blocks', FLAGS.blocks), ('hidden_units', 128)]
  if FLAGS.architecture == 'conv':
    sizes.append(('batch_norm_decay', FLAGS.batch_norm_decay))
  with gin.unlock_config():
    gin.bind_parameter('image_encoder_architecture.architecture', FLAGS.architecture)
    configurable = encoders.IMAGE_ENCODERS[FLAGS.architecture].__name__
    for name, value in sizes:
      gin.bind_parameter(f'{configurable}.{name}', value)
  encoder = encoders.observation_encoder(ad_tf.envs.get_spec('watermaze').observation, 64)
  head = tf.keras.layers.Dense(len(TARGETS))
  optimizer = tf.keras.optimizers.Adam(1e-3)
  rng = np.random.default_rng(0)

  @tf.function
  def step(frames, targets):
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean((head(encoder(frames, training=True)) - targets) ** 2)
    variables = encoder.trainable_variables + head.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  test_frames, test_targets = poses_and_frames(rng, 512)
  start = time.perf_counter()
  for _ in range(FLAGS.steps):
    step(*poses_and_frames(rng, 64))
  figures = {'architecture': FLAGS.architecture, **{name: value for name, value in sizes},
             'steps': FLAGS.steps, 'train_seconds': round(time.perf_counter() - start, 1)}
  for mode, training in (('train_mode', True), ('inference', False)):
    errors = tf.reduce_mean((head(encoder(test_frames, training=training)) - test_targets) ** 2,
                            axis=0).numpy()
    figures.update({f'{mode}_mse_{t}': round(float(e), 4) for t, e in zip(TARGETS, errors)})
  variances = test_targets.numpy().var(axis=0)
  figures.update({f'variance_{t}': round(float(v), 4) for t, v in zip(TARGETS, variances)})
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
