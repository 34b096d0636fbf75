"""AD and ED: a trained transformer improving in context, rebuilt from its own record."""

import functools
from typing import Any, Dict, Optional

from absl import logging

import ad_tf.envs
from ad_tf import experiment
from ad_tf.methods import in_context
from ad_tf.methods import method
from ad_tf.model import loading


class TrainedTransformer(method.Method):
  """The latest checkpoint of the model trained on `ad_histories/<dataset_config>`."""

  def __init__(self, name: str, root_dir: str, dataset_config: str):
    self.name = name
    self._root_dir = root_dir
    self._dataset_config = dataset_config

  @functools.cached_property
  def _restored(self):
    """(model, record, checkpoint), restored once for every split this method plays (a new model
    would also re-trace the rollout), or None if never trained."""
    return loading.restore(self._root_dir, self._dataset_config)

  def run(self, runs: method.EvaluationRuns) -> Optional[method.MethodResult]:
    restored = self._restored
    if restored is None:
      logging.warning('%s: no trained model for %s; skipped.', self.name, self._dataset_config)
      return None
    model, record, checkpoint = restored
    if record.env_name != runs.env_name:
      raise experiment.ExperimentError(
          f'{self.name}: the model in {experiment.train_dir(self._root_dir, self._dataset_config)}'
          f' acts in {record.env_name!r}, not {runs.env_name!r} (evaluate.env_name).')
    env = ad_tf.envs.load_batched(runs.env_name)
    step_rewards = in_context.rollout(model, env, runs.stacked_tasks(), runs.env_seeds,
                                      runs.num_episodes, record.context_length,
                                      policy_seeds=runs.policy_seeds)
    return method.MethodResult(
        episode_returns=in_context.episode_returns(step_rewards, env.episode_length),
        oracles=runs.oracles(), on_evaluation_runs=True, step_rewards=step_rewards,
        info={'dataset_config': self._dataset_config, 'checkpoint': checkpoint,
              'context_length': record.context_length})

  def available(self) -> bool:
    return experiment.latest_checkpoint(self._root_dir, self._dataset_config) is not None

  def up_to_date(self, info: Dict[str, Any]) -> bool:
    return info.get('checkpoint') == experiment.latest_checkpoint(self._root_dir,
                                                                  self._dataset_config)
