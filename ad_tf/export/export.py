"""Writes the trained AD model as a SavedModel under root_dir/export/<version>/.

The version is the training step of the exported checkpoint (an integer directory, as TF Serving
expects), so re-exporting the same checkpoint is a no-op and a later checkpoint becomes a newer
version beside it.
"""

import json
import os
from typing import Optional

from absl import logging
import gin
import tensorflow as tf

import ad_tf.envs
from ad_tf.evaluation import evaluate
from ad_tf.export import in_context_policy
from ad_tf.train import trainer


class ExportError(ValueError):
  """Nothing to export."""


@gin.configurable
def export(root_dir: str, env_name: str = 'darkroom', dataset_config: Optional[str] = None,
           context_length: Optional[int] = None) -> str:
  """Exports the latest checkpoint of `dataset_config` (AD by default); returns its directory."""
  dataset_config = dataset_config or env_name
  context_length = context_length or gin.query_parameter('train.context_length')
  checkpoints = os.path.join(trainer.train_dir(root_dir, dataset_config), 'checkpoints')
  latest = tf.train.latest_checkpoint(checkpoints)
  if latest is None:
    raise ExportError(f'No checkpoint in {checkpoints}: train first '
                      '(python -m ad_tf.bin.train --root_dir=... --gin_file=...).')
  version = int(latest.rsplit('-', 1)[1])
  directory = os.path.join(root_dir, 'export', str(version))
  if os.path.exists(os.path.join(directory, 'saved_model.pb')):
    logging.info('Version %d is already exported in %s.', version, directory)
    return directory
  model = evaluate.load_model(root_dir, dataset_config, env_name, context_length)
  env = ad_tf.envs.load_batched(env_name)
  policy = in_context_policy.InContextPolicy(model, env.observation_shape, context_length,
                                             slide=env.episode_length)
  signatures = {'action': policy.action, 'serving_default': policy.action,
                'get_initial_state': policy.get_initial_state}
  staging = directory + '.tmp'
  tf.saved_model.save(policy, staging, signatures=signatures)
  with open(os.path.join(staging, 'assets.extra.json'), 'w') as f:
    json.dump({'env_name': env_name, 'dataset_config': dataset_config,
               'context_length': context_length, 'checkpoint': latest,
               'num_actions': model.num_actions}, f, indent=1)
  os.replace(staging, directory)
  logging.info('Exported %s to %s', latest, directory)
  return directory
