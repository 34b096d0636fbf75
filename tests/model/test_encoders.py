"""Observation encoders chosen from the spec: the paper's Watermaze image encoder (Table 3)."""

import json

import gin
import numpy as np
import pytest
import tensorflow as tf

import ad_tf.envs
from ad_tf.model import encoders
from ad_tf.model import incremental_decoder
from ad_tf.model import loading
from tests.model.test_transformer import make_model


def test_the_image_encoder_is_table_3():
  encoder = encoders.observation_encoder(ad_tf.envs.get_spec('watermaze').observation, 64)
  assert isinstance(encoder, encoders.ImageObservationEncoder)
  frames = tf.zeros([2, 3, 72, 96, 3], tf.uint8)
  assert encoder(frames).shape == (2, 3, 64)  # [B, T, D]: one embedding per frame.
  convs = [l for l in encoder._blocks if isinstance(l, tf.keras.layers.Conv2D)]  # pylint: disable=protected-access
  norms = [l for l in encoder._blocks if isinstance(l, tf.keras.layers.BatchNormalization)]  # pylint: disable=protected-access
  drops = [l for l in encoder._blocks if isinstance(l, tf.keras.layers.Dropout)]  # pylint: disable=protected-access
  assert [(c.filters, c.kernel_size, c.strides) for c in convs] == [(128, (5, 5), (2, 2))] * 3
  assert [(n.momentum, n.epsilon) for n in norms] == [(0.999, 1e-5)] * 3
  assert [d.rate for d in drops] == [0.2] * 3
  assert encoder._hidden.units == 256  # pylint: disable=protected-access


def test_frames_differ_in_embedding_and_dropout_only_in_training():
  with gin.unlock_config():
    gin.bind_parameter('ImageObservationEncoder.channels', 8)
  encoder = encoders.observation_encoder(ad_tf.envs.get_spec('watermaze').observation, 16)
  rng = np.random.default_rng(0)
  frames = tf.constant(rng.integers(0, 256, [4, 72, 96, 3]), tf.uint8)
  inference = encoder(frames, training=False).numpy()
  np.testing.assert_array_equal(encoder(frames, training=False).numpy(), inference)
  assert not np.allclose(inference[0], inference[1])
  assert not np.allclose(encoder(frames, training=True).numpy(), inference)


def test_a_watermaze_model_decodes_incrementally_like_its_full_pass():
  with gin.unlock_config():
    gin.bind_parameter('ImageObservationEncoder.channels', 8)
  model = make_model('watermaze', max_length=12)
  rng = np.random.default_rng(1)
  inputs = {'observation': rng.integers(0, 256, (2, 12, 72, 96, 3)).astype(np.uint8),
            'time': np.tile(np.arange(12), (2, 1)).astype(np.int32),
            'prev_action': rng.integers(0, 8, (2, 12)).astype(np.int32),
            'prev_reward': rng.integers(0, 2, (2, 12)).astype(np.float32)}
  full = model(inputs).numpy()
  decoder = incremental_decoder.IncrementalDecoder(model, 2)
  weights = decoder.layer_weights()
  steps = [decoder.step({k: tf.constant(v[:, t]) for k, v in inputs.items()}, tf.constant(t),
                        weights).numpy() for t in range(12)]
  np.testing.assert_allclose(np.stack(steps, axis=1), full, atol=1e-4)


def test_a_watermaze_model_rebuilds_from_its_record_with_no_gin_binding():
  """The image encoder's sizes are gin bindings in the CPU configs; the model's hyperparameters
  (what the model record keeps) hold them, so evaluate, export and the benchmarks rebuild the
  same network with no binding in scope (it once came back with the paper's 128 channels)."""
  with gin.unlock_config():
    gin.bind_parameter('ImageObservationEncoder.channels', 4)
    gin.bind_parameter('ImageObservationEncoder.hidden_units', 8)
    gin.bind_parameter('ImageObservationEncoder.input_pool', 4)
    gin.bind_parameter('ImageObservationEncoder.num_blocks', 2)
  spec = ad_tf.envs.get_spec('watermaze')
  model = loading.build_seeded(make_model('watermaze', max_length=6), seed=3, length=6)
  record = json.loads(json.dumps(model.hyperparameters))  # As the record file holds it.
  assert record['observation_encoder'] == {
      'architecture': 'conv', 'channels': 4, 'kernel': 5, 'stride': 2, 'num_blocks': 2, 'hidden_units': 8,
      'dropout': 0.2, 'input_pool': 4, 'batch_norm_decay': 0.999}
  gin.clear_config()
  rebuilt = loading.build_from_hyperparameters(spec, record, seed=3, length=6)
  assert [v.shape for v in rebuilt.variables] == [v.shape for v in model.variables]
  rng = np.random.default_rng(2)
  inputs = {'observation': rng.integers(0, 256, (1, 6, 72, 96, 3)).astype(np.uint8),
            'time': np.arange(6)[None].astype(np.int32),
            'prev_action': rng.integers(0, 8, (1, 6)).astype(np.int32),
            'prev_reward': np.zeros((1, 6), np.float32)}
  np.testing.assert_array_equal(rebuilt(inputs).numpy(), model(inputs).numpy())  # Same seed.
  # Grid rooms' encoders have no sizes: their records are as before, and none can be given.
  assert 'observation_encoder' not in make_model('darkroom').hyperparameters
  with pytest.raises(ValueError, match='has no hyperparameters'):
    encoders.observation_encoder(spec=ad_tf.envs.get_spec('darkroom').observation,
                                 embedding_dim=8, hyperparameters={'channels': 4})


def _frames(seed, shape):
  return tf.constant(np.random.default_rng(seed).integers(0, 256, shape), tf.uint8)


def test_the_column_encoder_is_chosen_by_gin_and_rebuilt_from_its_record():
  with gin.unlock_config():
    gin.bind_parameter('image_encoder_architecture.architecture', 'columns')
    gin.bind_parameter('ColumnObservationEncoder.channels', 8)
  spec = ad_tf.envs.get_spec('watermaze')
  model = loading.build_seeded(make_model('watermaze', max_length=6), seed=4, length=6)
  record = json.loads(json.dumps(model.hyperparameters))
  assert record['observation_encoder'] == {
      'architecture': 'columns', 'channels': 8, 'num_blocks': 2, 'kernel': 5,
      'hidden_units': 128, 'input_pool': 2}
  gin.clear_config()  # The record alone says which encoder, and its sizes.
  rebuilt = loading.build_from_hyperparameters(spec, record, seed=4, length=6)
  assert isinstance(rebuilt.step_embedding._observation, encoders.ColumnObservationEncoder)  # pylint: disable=protected-access
  inputs = {'observation': _frames(5, (1, 6, 72, 96, 3)),
            'time': tf.range(6)[None], 'prev_action': tf.zeros([1, 6], tf.int32),
            'prev_reward': tf.zeros([1, 6])}
  np.testing.assert_array_equal(rebuilt(inputs).numpy(), model(inputs).numpy())


def test_the_column_encoder_reads_columns_and_acts_the_same_in_training():
  encoder = encoders.ColumnObservationEncoder(16, channels=8, input_pool=1)
  frames = _frames(6, (3, 72, 96, 3))
  np.testing.assert_array_equal(encoder(frames, training=True).numpy(),
                                encoder(frames, training=False).numpy())
  # Each column is read whole by one dense layer: its input is a column's 72 rows x 3 colours.
  assert encoder._column.kernel.shape == (72 * 3, 8)  # pylint: disable=protected-access
  # Changing one pixel changes the embedding (nothing of a column is pooled away).
  changed = frames.numpy()
  changed[:, 5, 7] = 255 - changed[:, 5, 7]
  assert not np.allclose(encoder(tf.constant(changed)).numpy(), encoder(frames).numpy())


def test_an_old_record_without_an_architecture_is_the_table_3_encoder_and_typos_fail():
  spec = ad_tf.envs.get_spec('watermaze').observation
  old = encoders.observation_encoder(spec, 8, {'channels': 4, 'hidden_units': 8})
  assert isinstance(old, encoders.ImageObservationEncoder)
  with pytest.raises(ValueError, match="'column'.*model record.*known: \\['columns', 'conv'\\]"):
    encoders.observation_encoder(spec, 8, {'architecture': 'column'})
  with gin.unlock_config():
    gin.bind_parameter('image_encoder_architecture.architecture', 'resnet')
  with pytest.raises(ValueError, match='image_encoder_architecture.architecture'):
    encoders.observation_encoder(spec, 8)


def test_pose_features_and_cells():
  features = encoders.agent_features(ad_tf.envs.get_spec('watermaze').agent_view)
  assert features.size == 4 + 20 + 20 + 12 and features.num_cells == 20 * 20 * 12
  poses = tf.constant([[0.0, 0.0, 0.0], [-0.99, 0.99, np.pi / 6], [0.04, 0.0, 2 * np.pi - 1e-9]],
                      tf.float64)
  encoded = features.encode(poses).numpy()
  assert encoded.shape == (3, 56) and encoded.dtype == np.float32
  np.testing.assert_allclose(encoded[1, :4], [-0.99, 0.99, np.cos(np.pi / 6), np.sin(np.pi / 6)],
                             rtol=1e-6)
  # Cells of 0.1: x = 0 and x = 0.04 share cell 10; -0.99 is cell 0, 0.99 cell 19. Heading bins
  # of 30 degrees: 0 and just under 2 pi share bin 0; pi / 6 is bin 1.
  cells = features.cell_index(poses).numpy()
  assert cells.tolist() == [(10 * 20 + 10) * 12, (0 * 20 + 19) * 12 + 1, (10 * 20 + 10) * 12]
