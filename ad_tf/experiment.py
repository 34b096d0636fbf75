"""One experiment's root_dir: every path in it, and the trained model's record.

  root_dir/tfds/ad_histories/<config>/<version>/   the RLDS dataset (tfds.load reads it)
  root_dir/train/<config>/checkpoints/             model, optimizer, step, input iterator
  root_dir/train/<config>/model_record.json        what was trained (ModelRecord)
  root_dir/train/<config>/tensorboard/, metrics.jsonl
  root_dir/eval/results.json, returns.png          the evaluation
  root_dir/export/<model>/<version>/               SavedModels, the layout TF Serving expects
                                                   (model 'ad', or 'ed' for an _expert config)
  root_dir/rl2/checkpoints/, rl2_record.json       RL² (online meta-RL): its training
  root_dir/rl2/policy/                             RL²'s tf_agents policy SavedModel (PolicySaver)
  root_dir/rl2/tensorboard/, metrics.jsonl
  root_dir/pipeline_times.json                     wall time of each pipeline stage

Train writes the model record; evaluate, export and serving read it instead of the training gin
bindings, so a model trained with one gin file evaluates and exports with none of them in scope.
"""

import dataclasses
import json
import os
from typing import Any, Dict, Optional

import tensorflow as tf

TFDS_DIR = 'tfds'
DATASET_NAME = 'ad_histories'
DATASET_VERSION = '1.0.0'
TRAIN_DIR = 'train'
CHECKPOINTS_DIR = 'checkpoints'
TENSORBOARD_DIR = 'tensorboard'
METRICS_FILE = 'metrics.jsonl'
MODEL_RECORD_FILE = 'model_record.json'
EVAL_DIR = 'eval'
RESULTS_FILE = 'results.json'
EXPORT_DIR = 'export'
PIPELINE_TIMES_FILE = 'pipeline_times.json'
RL2_DIR = 'rl2'
RL2_RECORD_FILE = 'rl2_record.json'
RL2_POLICY_DIR = 'policy'


class ExperimentError(ValueError):
  """Something the experiment directory should hold is missing or unreadable."""


def tfds_dir(root_dir: str) -> str:
  """The TFDS data_dir: `tfds.load('ad_histories/<config>', data_dir=tfds_dir(root_dir))`."""
  return os.path.join(root_dir, TFDS_DIR)


def dataset_dir(root_dir: str, config_name: str) -> str:
  """The version directory of `ad_histories/<config_name>`."""
  return os.path.join(tfds_dir(root_dir), DATASET_NAME, config_name, DATASET_VERSION)


def train_dir(root_dir: str, dataset_config: str) -> str:
  return os.path.join(root_dir, TRAIN_DIR, dataset_config)


def checkpoint_dir(root_dir: str, dataset_config: str) -> str:
  return os.path.join(train_dir(root_dir, dataset_config), CHECKPOINTS_DIR)


def latest_checkpoint(root_dir: str, dataset_config: str) -> Optional[str]:
  return tf.train.latest_checkpoint(checkpoint_dir(root_dir, dataset_config))


def eval_dir(root_dir: str) -> str:
  return os.path.join(root_dir, EVAL_DIR)


def results_path(root_dir: str) -> str:
  return os.path.join(eval_dir(root_dir), RESULTS_FILE)


#: The suffix of the expert-data (ED) `ad_histories` config of an environment: `<env>_expert`.
EXPERT_SUFFIX = '_expert'


def served_model_name(dataset_config: str) -> str:
  """'ad' for a model trained on `<env>`, 'ed' for one trained on `<env>_expert`."""
  return 'ed' if dataset_config.endswith(EXPERT_SUFFIX) else 'ad'


def export_dir(root_dir: str, model_name: str = 'ad') -> str:
  """The base path TF Serving watches for `model_name` (integer version directories inside)."""
  return os.path.join(root_dir, EXPORT_DIR, model_name)


def pipeline_times_path(root_dir: str) -> str:
  return os.path.join(root_dir, PIPELINE_TIMES_FILE)


def rl2_dir(root_dir: str) -> str:
  """RL²'s training directory: checkpoints, record, TensorBoard, metrics.jsonl, policy."""
  return os.path.join(root_dir, RL2_DIR)


def rl2_checkpoint_dir(root_dir: str) -> str:
  return os.path.join(rl2_dir(root_dir), CHECKPOINTS_DIR)


def rl2_policy_dir(root_dir: str) -> str:
  """The trained RL² policy, a tf_agents `PolicySaver` SavedModel."""
  return os.path.join(rl2_dir(root_dir), RL2_POLICY_DIR)


def rl2_record_path(root_dir: str) -> str:
  return os.path.join(rl2_dir(root_dir), RL2_RECORD_FILE)


@dataclasses.dataclass(frozen=True)
class ModelRecord:
  """What a trained model is: enough to rebuild it, evaluate it and serve it without gin.

  Attributes:
    env_name: the environment it acts in (its spec sizes the model).
    dataset_config: the `ad_histories` config it was trained on ('darkroom', 'bandit_expert').
    context_length: steps of context it was trained with (and is evaluated and served with).
    model: the transformer's hyperparameters (`AlgorithmDistillationTransformer.hyperparameters`).
    seed: the seed its weights were initialised from.
    gin_config: the whole operative gin config of training, for provenance only.
  """

  env_name: str
  dataset_config: str
  context_length: int
  model: Dict[str, Any]
  seed: int
  gin_config: str = ''


def write_model_record(root_dir: str, record: ModelRecord) -> None:
  """Writes the record atomically beside the checkpoints."""
  directory = train_dir(root_dir, record.dataset_config)
  os.makedirs(directory, exist_ok=True)
  path = os.path.join(directory, MODEL_RECORD_FILE)
  with open(path + '.tmp', 'w') as f:
    json.dump(dataclasses.asdict(record), f, indent=1)
  os.replace(path + '.tmp', path)


def read_model_record(root_dir: str, dataset_config: str) -> ModelRecord:
  """The record train wrote for `dataset_config`, or one ExperimentError saying what to do."""
  path = os.path.join(train_dir(root_dir, dataset_config), MODEL_RECORD_FILE)
  if not os.path.exists(path):
    raise ExperimentError(
        f'{path} is missing: no model was trained on ad_histories/{dataset_config} in '
        f'{root_dir} (or it was trained by an older ad_tf). Run python -m ad_tf.bin.train '
        f'--root_dir={root_dir} --gin_file=... (it resumes and writes the record).')
  return _read_record(path, ModelRecord, 'a model record', 'train')


@dataclasses.dataclass(frozen=True)
class Rl2Record:
  """What a trained RL² policy is, written beside it once its policy is saved.

  Attributes:
    env_name: the environment it acts in.
    episodes_per_trial: K, the episodes of one task its recurrent state carried in training.
    trials_per_iteration: trials played per PPO iteration (one per row).
    minibatches: PPO updates per pass over an iteration's trials.
    reward_scale: the factor of the rewards PPO learned from.
    num_iterations: PPO iterations trained.
    env_steps: environment steps it was trained on.
    num_train_tasks: the size of its fixed pool of training tasks, or None (the whole split).
    agent: the agent's hyperparameters (`ad_tf.rl2.agent.hyperparameters`).
    seed: the seed of its weights, tasks and actions.
    wall_time_s: training wall time (summed over resumptions).
    gin_config: the whole operative gin config of training, for provenance only.
  """

  env_name: str
  episodes_per_trial: int
  trials_per_iteration: int
  minibatches: int
  reward_scale: float
  num_iterations: int
  env_steps: int
  num_train_tasks: Optional[int]
  agent: Dict[str, Any]
  seed: int
  wall_time_s: float = 0.0
  gin_config: str = ''


def write_rl2_record(root_dir: str, record: Rl2Record) -> None:
  path = rl2_record_path(root_dir)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path + '.tmp', 'w') as f:
    json.dump(dataclasses.asdict(record), f, indent=1)
  os.replace(path + '.tmp', path)


def read_rl2_record(root_dir: str) -> Optional[Rl2Record]:
  """The record of the trained RL² policy in `root_dir`, or None if none was saved."""
  path = rl2_record_path(root_dir)
  if not os.path.exists(path):
    return None
  return _read_record(path, Rl2Record, 'an RL² record', 'python -m ad_tf.bin.train_rl2')


def _read_record(path: str, record_type, what: str, rewrite_command: str):
  """The `record_type` in the JSON file `path`, or one ExperimentError saying it is not `what`."""
  with open(path) as f:
    fields = json.load(f)
  try:
    return record_type(**fields)
  except TypeError as error:
    raise ExperimentError(f'{path} is not {what} ({error}); re-run {rewrite_command} to '
                          'rewrite it.') from None
