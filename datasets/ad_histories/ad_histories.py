"""The `ad_histories` TFDS dataset: learning histories of source RL agents, in RLDS.

Every environment episode is one RLDS episode. Its steps hold observation o_t, the action a_t
taken there, the reward a_t earned, discount, is_first, is_last and is_terminal, and
`action_probs`: the distribution the source's policy drew a_t from; the last step holds the
final observation (its action, reward and probabilities are padding). Episode metadata say which
learning history the episode belongs to (`history_id`), its position in that history
(`episode_index`) and in the source actor's full stream (`source_episode`, different when
histories are subsampled or for expert data), the task, the source algorithm, the seed and the
actor.

Bandit: one RLDS episode is 100 pulls of one task (observation always 0, action the arm, reward
0 or 1). A UCB1 learner plays several episodes in a row with its counts carried over;
`ad_histories/bandit` keeps each learner's first episode (one history = its first 100 pulls,
from trying every arm to exploiting one; `source_episode` 0) and `bandit_expert` its last (the
converged policy). `task['probs']` holds the ten arms' payout probabilities.

One config per environment (`darkroom`, `darkroom_hard`, `key_to_door`, `bandit`) holds whole
learning histories; `<env>_expert` configs hold only the converged policy's episodes (the ED
baseline). The data is written by `python -m ad_tf.bin.generate`, which records how it was
made in the dataset's description and in `info.metadata['generation']`:

  import ad_tf, tensorflow_datasets as tfds
  ds = tfds.load('ad_histories/darkroom', data_dir=f'{root_dir}/tfds', split='train')
"""

import numpy as np
import tensorflow_datasets as tfds
from tensorflow_datasets.rlds import rlds_base

import ad_tf.envs
from ad_tf.envs import specs
from ad_tf import experiment
from ad_tf.generation import rlds_episodes

EXPERT_SUFFIX = experiment.EXPERT_SUFFIX  # Named once, in ad_tf.experiment.


def _tensor_feature(shape, dtype) -> tfds.features.FeatureConnector:
  return tfds.features.Scalar(dtype) if shape == () else tfds.features.Tensor(shape=shape,
                                                                               dtype=dtype)


def observation_feature(observation: specs.ObservationSpec) -> tfds.features.FeatureConnector:
  """The RLDS observation feature of an observation spec: frames are PNG-encoded TFDS `Image`s
  (469 bytes a Watermaze frame instead of 20,736 raw; docs/WATERMAZE.md), the rest tensors."""
  if observation.kind == specs.IMAGE:
    return tfds.features.Image(shape=observation.shape, dtype=observation.dtype,
                               encoding_format='png')
  return _tensor_feature(observation.shape, observation.dtype)


def dataset_config(name: str, overall_description: str = '') -> rlds_base.DatasetConfig:
  """The RLDS config of `name` ('<env>' or '<env>_expert')."""
  env_name = name[:-len(EXPERT_SUFFIX)] if name.endswith(EXPERT_SUFFIX) else name
  spec = ad_tf.envs.get_spec(env_name)
  example_task = ad_tf.envs.sample_tasks(env_name, 'train', 1, seed=0)[0]
  kind = 'converged-policy episodes (ED baseline)' if name != env_name else 'learning histories'
  return rlds_base.DatasetConfig(
      name=name,
      description=' '.join(filter(None, [f'{env_name}: {kind}.',
                                         ad_tf.envs.get_family(env_name).episode_description])),
      overall_description=overall_description,
      observation_info=observation_feature(spec.observation),
      action_info=tfds.features.Scalar(np.int32),
      reward_info=tfds.features.Scalar(np.float32),
      discount_info=tfds.features.Scalar(np.float32),
      step_metadata_info={rlds_episodes.ACTION_PROBS: tfds.features.Tensor(
          shape=(spec.num_actions,), dtype=np.float32)},
      episode_metadata_info={
          'history_id': tfds.features.Scalar(np.int64),
          'episode_index': tfds.features.Scalar(np.int64),
          'source_episode': tfds.features.Scalar(np.int64),
          'task_index': tfds.features.Scalar(np.int64),
          'task': tfds.features.FeaturesDict({
              key: _tensor_feature(value.shape, value.dtype)
              for key, value in example_task.items()}),
          'source': tfds.features.Text(),
          'seed': tfds.features.Scalar(np.int64),
          'actor': tfds.features.Scalar(np.int64),
      })


class AdHistories(tfds.core.GeneratorBasedBuilder):
  """Learning histories of source RL agents (Algorithm Distillation's training data)."""

  VERSION = tfds.core.Version(experiment.DATASET_VERSION)
  RELEASE_NOTES = {'1.0.0': 'First release.'}
  BUILDER_CONFIGS = [dataset_config(name + suffix) for name in ad_tf.envs.ENV_NAMES
                     for suffix in ('', EXPERT_SUFFIX)]

  def _info(self) -> tfds.core.DatasetInfo:
    # The description is left to dataset_info.json: generation writes how the data was made.
    return rlds_base.build_info(self.builder_config, self)

  def _split_generators(self, dl_manager):
    raise RuntimeError(
        f'ad_histories/{self.builder_config.name} has no prepared data under '
        f'{getattr(self, "_data_dir_root", self.data_dir)}. It is '
        'made by the source agents, not downloaded: run `python -m ad_tf.bin.generate '
        '--root_dir=ROOT --gin_file=gin/<env>.gin` and load with data_dir=ROOT/tfds.')

  def _generate_examples(self):
    raise RuntimeError('ad_histories is written by ad_tf.bin.generate.')
