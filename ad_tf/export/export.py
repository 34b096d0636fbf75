"""Writes a trained model as a SavedModel under root_dir/export/<model>/<version>/.

Everything comes from the trained model's own record (`experiment.ModelRecord`): its
environment, context length and architecture, so exporting needs none of the training gin
bindings. AD and ED are separate served models with base paths of their own
(root_dir/export/ad, root_dir/export/ed). The version is the training step of the exported
checkpoint (an integer directory, as TF Serving expects), so re-exporting the same checkpoint is a
no-op and a later checkpoint becomes a newer version beside it. A version is written under a
temporary name and renamed when complete: a server polling the base path never sees half of one.
"""

import dataclasses
import json
import os
from typing import Optional

from absl import logging
import gin
import tensorflow as tf

from ad_tf import experiment
from ad_tf.export import in_context_policy
from ad_tf.model import loading

#: Beside saved_model.pb: the model record of the export (env, context, checkpoint, ...).
EXPORT_RECORD_FILE = 'assets.extra.json'


class ExportError(ValueError):
  """Nothing to export."""


def save_policy(model: tf.keras.Model, context_length: int, directory: str) -> None:
  """`model` as the SavedModel of an `InContextPolicy` (signatures `get_initial_state`,
  `action` and `serving_default`) in `directory`."""
  policy = in_context_policy.InContextPolicy(model, context_length)
  tf.saved_model.save(policy, directory, signatures={
      'action': policy.action, 'serving_default': policy.action,
      'get_initial_state': policy.get_initial_state})


@gin.configurable
def export(root_dir: str, env_name: str = 'darkroom',
           dataset_config: Optional[str] = None) -> str:
  """Exports the latest checkpoint of `dataset_config` (AD, `env_name`, by default; ED with
  `<env>_expert`) to its model's base path; returns the version directory."""
  dataset_config = dataset_config or env_name
  latest = experiment.latest_checkpoint(root_dir, dataset_config)
  if latest is None:
    raise ExportError(f'No checkpoint in {experiment.checkpoint_dir(root_dir, dataset_config)}: '
                      'train first (python -m ad_tf.bin.train --root_dir=... --gin_file=...).')
  version = int(latest.rsplit('-', 1)[1])
  directory = os.path.join(
      experiment.export_dir(root_dir, experiment.served_model_name(dataset_config)), str(version))
  if os.path.exists(os.path.join(directory, 'saved_model.pb')):
    logging.info('Version %d is already exported in %s.', version, directory)
    return directory
  model, record, latest = loading.restore(root_dir, dataset_config)
  staging = directory + '.tmp'
  save_policy(model, record.context_length, staging)
  with open(os.path.join(staging, EXPORT_RECORD_FILE), 'w') as f:
    json.dump({**dataclasses.asdict(record), 'checkpoint': latest,
               'num_actions': model.num_actions}, f, indent=1)
  os.replace(staging, directory)
  logging.info('Exported %s to %s', latest, directory)
  return directory
