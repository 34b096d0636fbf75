"""A keras_nlp `TransformerDecoder` with its own attention-dropout rate.

The paper sets attention dropout (0.5) apart from the residual dropout (0.1); keras_nlp's decoder
uses one rate for both, so this block sets the self-attention layer's rate after it is built.
"""

import keras_nlp
import tensorflow as tf


class DecoderBlock(keras_nlp.layers.TransformerDecoder):
  """Post-norm decoder-only block (no cross-attention) with a separate attention dropout."""

  def __init__(self, attention_dropout: float = 0.0, **kwargs):
    super().__init__(**kwargs)
    self.attention_dropout = attention_dropout

  def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
    super().build(decoder_sequence_shape, encoder_sequence_shape)
    self._self_attention_layer._dropout_layer.rate = self.attention_dropout  # pylint: disable=protected-access

  def get_config(self):
    return {**super().get_config(), 'attention_dropout': self.attention_dropout}


tf.keras.utils.get_custom_objects()['ad_tf>DecoderBlock'] = DecoderBlock
