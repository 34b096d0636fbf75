"""Building, seeding and restoring the AD transformer: the one place that makes a model.

Training constructs the gin-configured transformer (`configured_model`) and seeds it with
`build_seeded`;
evaluation, export, serving and the benchmarks rebuild a trained model from its record
(`restore`), with no gin binding in scope.
"""

from typing import Mapping, Optional, Tuple

from absl import logging
import tensorflow as tf

import ad_tf.envs
from ad_tf import experiment
from ad_tf.envs import specs
from ad_tf.model import step_tokens
from ad_tf.model import transformer


def build_seeded(model: transformer.AlgorithmDistillationTransformer, seed: int,
                 length: int) -> transformer.AlgorithmDistillationTransformer:
  """Creates `model`'s variables (on zero step inputs [1, length]) from `seed` alone."""
  return transformer.build_seeded(model, step_tokens.zeros(model.env_spec, [1, length]), seed)


def configured_model(env_spec: specs.EnvSpec) -> transformer.AlgorithmDistillationTransformer:
  """The transformer for `env_spec` as the gin config sizes it (not built yet)."""
  return transformer.AlgorithmDistillationTransformer(env_spec=env_spec)


def build_from_hyperparameters(env_spec: specs.EnvSpec, hyperparameters: Mapping[str, object],
                               seed: int = 0, length: int = 1
                               ) -> transformer.AlgorithmDistillationTransformer:
  """A transformer with exactly these hyperparameters (explicit: gin bindings do not apply)."""
  model = transformer.AlgorithmDistillationTransformer(env_spec=env_spec, **hyperparameters)
  return build_seeded(model, seed, length)


def restore(root_dir: str, dataset_config: str
            ) -> Optional[Tuple[transformer.AlgorithmDistillationTransformer,
                                experiment.ModelRecord, str]]:
  """(model, its record, checkpoint path) of the latest checkpoint, or None if never trained."""
  latest = experiment.latest_checkpoint(root_dir, dataset_config)
  if latest is None:
    return None
  record = experiment.read_model_record(root_dir, dataset_config)
  model = build_from_hyperparameters(ad_tf.envs.get_spec(record.env_name), record.model,
                                     record.seed, record.context_length)
  tf.train.Checkpoint(model=model).restore(latest).expect_partial()
  logging.info('Loaded %s', latest)
  return model, record, latest
