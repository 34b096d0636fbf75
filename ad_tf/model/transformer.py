"""The Algorithm Distillation transformer: a causal decoder over step tokens.

Token embeddings (`step_tokens`) plus learned absolute positions (keras_nlp `PositionEmbedding`)
go through post-norm keras_nlp decoder blocks; a dense head gives action logits at every step.
During training, each token is replaced by a learned mask embedding with probability
`sequence_mask_prob` (the paper's sequence masking); with `mask_rewarded_steps=False` the
tokens that carry a reward (prev_reward != 0) are never masked, so a sparse reward (Key-to-Door's
key, Dark Room Hard's goal) is always in view when the context holds it. `call_with_cache`
decodes one step at a time with keras_nlp's self-attention cache, like keras_nlp's GPT-2
`call_with_cache`.

Initialisers are unseeded on purpose: `build_seeded` resets the Python, numpy and TF seeds right
before the variables are created, which makes the weights a function of that seed under any
strategy (keras_nlp clones a seeded initialiser for same-shaped weights, which would start Q, K
and V equal).
"""

import json
from typing import Dict, Mapping, Optional, Tuple

import gin
import keras_nlp
import tensorflow as tf

from ad_tf.envs import specs
from ad_tf.model import decoder_block
from ad_tf.model import step_tokens


@gin.configurable
class AlgorithmDistillationTransformer(tf.keras.Model):
  """Predicts the source's action at every step of an across-episode window."""

  def __init__(
      self,
      env_spec: specs.EnvSpec,
      # Model (paper, Appendix L, Table 1).
      max_length: int = 80,
      embedding_dim: int = 64,
      num_layers: int = 4,
      num_heads: int = 4,
      feedforward_dim: int = 2048,
      dropout: float = 0.1,
      attention_dropout: float = 0.5,
      sequence_mask_prob: float = 0.3,
      mask_rewarded_steps: bool = True,
      # The observation encoder's sizes (an image encoder's); None: its gin-configured ones.
      observation_encoder: Optional[Mapping[str, object]] = None,
      **kwargs):
    super().__init__(**kwargs)
    self.env_spec = env_spec
    self.num_actions = env_spec.num_actions
    self.episode_length = env_spec.episode_length
    hyperparameters = {
        'max_length': max_length, 'embedding_dim': embedding_dim, 'num_layers': num_layers,
        'num_heads': num_heads, 'feedforward_dim': feedforward_dim, 'dropout': dropout,
        'attention_dropout': attention_dropout, 'sequence_mask_prob': sequence_mask_prob,
        'mask_rewarded_steps': mask_rewarded_steps}
    self.max_length = max_length
    self.embedding_dim = embedding_dim
    self.num_layers = num_layers
    self.num_heads = num_heads
    self.sequence_mask_prob = sequence_mask_prob
    self.mask_rewarded_steps = mask_rewarded_steps
    self.step_embedding = step_tokens.StepEmbedding(env_spec, embedding_dim, observation_encoder,
                                                    name='step_embedding')
    # The encoder's effective sizes go into the record too (only where it has any, so the grid
    # rooms' records are as before): restoring a model must not depend on gin bindings.
    if self.step_embedding.observation_encoder_hyperparameters:
      hyperparameters['observation_encoder'] = (
          self.step_embedding.observation_encoder_hyperparameters)
    # Kept as JSON text: Keras would wrap a dict attribute (and the dicts in it) in trackable
    # wrappers that neither json nor a record can take.
    self._hyperparameters_json = json.dumps(hyperparameters)
    self.mask_embedding = None  # Created in `build`, so `build_seeded` seeds it too.
    self.position_embedding = keras_nlp.layers.PositionEmbedding(
        max_length, initializer=tf.keras.initializers.RandomNormal(stddev=0.02),
        name='position_embedding')
    self.embedding_dropout = tf.keras.layers.Dropout(dropout)
    self.blocks = [
        decoder_block.DecoderBlock(
            attention_dropout=attention_dropout, intermediate_dim=feedforward_dim,
            num_heads=num_heads, dropout=dropout, normalize_first=False,
            name=f'decoder_block_{i}')
        for i in range(num_layers)]
    self.action_head = tf.keras.layers.Dense(self.num_actions, name='action_logits')

  @property
  def hyperparameters(self) -> Dict[str, object]:
    """What `loading.build_from_hyperparameters` needs besides the env spec (the model record):
    plain JSON values, a fresh copy on each call."""
    return json.loads(self._hyperparameters_json)

  def build(self, input_shape):
    # With no sequence masking the embedding is never used: it stays in the checkpoint (the same
    # variables for every setting) but out of the trained ones, which would get no gradient.
    self.mask_embedding = self.add_weight(
        name='mask_embedding', shape=[self.embedding_dim],
        initializer=tf.keras.initializers.RandomNormal(stddev=0.02),
        trainable=self.sequence_mask_prob > 0)
    self.built = True

  def _tokens(self, inputs: Dict[str, tf.Tensor], start_index, training) -> tf.Tensor:
    tokens = self.step_embedding(inputs)
    if training and self.sequence_mask_prob > 0:
      masked = tf.random.uniform(tf.shape(tokens)[:2]) < self.sequence_mask_prob
      if not self.mask_rewarded_steps:
        masked &= tf.equal(inputs['prev_reward'], 0.0)
      tokens = tf.where(masked[..., None], self.mask_embedding, tokens)
    tokens += self.position_embedding(tokens, start_index=start_index)
    return self.embedding_dropout(tokens, training=training)

  def call(self, inputs: Dict[str, tf.Tensor], training=None) -> tf.Tensor:
    """Step inputs [B, T <= max_length] -> action logits [B, T, num_actions]."""
    x = self._tokens(inputs, 0, training)
    for block in self.blocks:
      x = block(x, training=training)
    return self.action_head(x)

  def initial_cache(self, batch_size) -> Tuple[tf.Tensor, ...]:
    """An empty key/value cache: one [B, 2, max_length, heads, head_dim] tensor per layer.

    Per-layer tensors (rather than one stacked tensor) let each step update a layer's cache in
    place instead of copying every layer's cache to re-stack them.
    """
    head_dim = self.embedding_dim // self.num_heads
    return tuple(tf.zeros([batch_size, 2, self.max_length, self.num_heads, head_dim])
                 for _ in range(self.num_layers))

  def call_with_cache(self, inputs: Dict[str, tf.Tensor], cache: Tuple[tf.Tensor, ...],
                      cache_index) -> Tuple[tf.Tensor, Tuple[tf.Tensor, ...]]:
    """Decodes step inputs [B, S] placed at positions cache_index.. of the context.

    Returns action logits [B, S, num_actions] and the updated cache. With S = 1 this is one
    incremental step; a whole prefix can be filled at once with cache_index = 0.
    """
    x = self._tokens(inputs, cache_index, training=False)
    updated = []
    for block, layer_cache in zip(self.blocks, cache):
      x, layer_cache = block(x, self_attention_cache=layer_cache,
                             self_attention_cache_update_index=cache_index)
      updated.append(layer_cache)
    return self.action_head(x), tuple(updated)


def build_seeded(model: tf.keras.Model, example_inputs, seed: int) -> tf.keras.Model:
  """Creates `model`'s variables with weights determined by `seed` alone."""
  tf.keras.utils.set_random_seed(seed)  # Keras draws unseeded initialisers' seeds in Python.
  model(example_inputs)
  return model
