"""RL² as a method of the evaluation: the saved tf_agents policy, loaded from its SavedModel.

The policy that `ad_tf.rl2.training` saved with `PolicySaver` plays the evaluation's runs as
one trial of `num_episodes` episodes each (its LSTM state carried across them, as in training),
through the same compiled trial loop as training and with the same per-row action sampling, so
it is the saved artifact, not the training process, that is evaluated.
"""

import functools
import hashlib
import os
from typing import Any, Dict, Optional

from absl import logging
import tensorflow as tf

import ad_tf.envs
from ad_tf import experiment
from ad_tf.methods import in_context
from ad_tf.methods import method
from ad_tf.rl2 import trials


def policy_fingerprint(policy_dir: str) -> str:
  """A digest of the SavedModel's fingerprint: it changes whenever the saved policy does."""
  with open(os.path.join(policy_dir, 'fingerprint.pb'), 'rb') as f:
    return hashlib.sha256(f.read()).hexdigest()[:16]


def play_saved_policy(saved_policy, runs: method.EvaluationRuns) -> tf.Tensor:
  """The step rewards [runs, num_episodes * episode_length] of `saved_policy` on `runs`."""
  env = ad_tf.envs.load_batched(runs.env_name)
  tasks = {k: tf.constant(v) for k, v in runs.stacked_tasks().items()}
  logits_fn = trials.policy_logits(saved_policy)

  @tf.function
  def play(env_seeds, policy_seeds):
    trial = trials.play(env, env.initial_state(tasks, env_seeds), logits_fn,
                        saved_policy.get_initial_state(runs.num_runs), policy_seeds,
                        runs.num_episodes)
    return tf.transpose(trial['rewards'])

  return play(tf.constant(runs.env_seeds, tf.int64), tf.constant(runs.policy_seeds, tf.int64))


class SavedRl2Policy(method.Method):
  """RL²'s saved policy in root_dir/rl2/policy (trained by `python -m ad_tf.bin.train_rl2`)."""

  name = 'RL2'

  def __init__(self, root_dir: str):
    self._root_dir = root_dir

  @functools.cached_property
  def _loaded(self):
    """(saved policy, record), or None if no RL² policy was saved."""
    if not self.available():
      return None
    return (tf.saved_model.load(experiment.rl2_policy_dir(self._root_dir)),
            experiment.read_rl2_record(self._root_dir))

  def run(self, runs: method.EvaluationRuns) -> Optional[method.MethodResult]:
    if self._loaded is None:
      logging.warning('RL2: no trained policy in %s; skipped (python -m ad_tf.bin.train_rl2 '
                      'trains it).', experiment.rl2_dir(self._root_dir))
      return None
    saved_policy, record = self._loaded
    if record.env_name != runs.env_name:
      raise experiment.ExperimentError(
          f'RL2: the policy in {experiment.rl2_policy_dir(self._root_dir)} acts in '
          f'{record.env_name!r}, not {runs.env_name!r} (evaluate.env_name).')
    step_rewards = play_saved_policy(saved_policy, runs).numpy()
    episode_length = ad_tf.envs.get_spec(runs.env_name).episode_length
    return method.MethodResult(
        episode_returns=in_context.episode_returns(step_rewards, episode_length),
        oracles=runs.oracles(), on_evaluation_runs=True, step_rewards=step_rewards,
        info={'algorithm': 'RL2 (PPO, LSTM)', 'episodes_per_trial': record.episodes_per_trial,
              'train_env_steps': record.env_steps,
              'policy_fingerprint': self.fingerprint()})

  def fingerprint(self) -> Optional[str]:
    policy_dir = experiment.rl2_policy_dir(self._root_dir)
    return policy_fingerprint(policy_dir) if os.path.exists(policy_dir) else None

  def available(self) -> bool:
    return (self.fingerprint() is not None
            and experiment.read_rl2_record(self._root_dir) is not None)

  def up_to_date(self, info: Dict[str, Any]) -> bool:
    return info.get('policy_fingerprint') == self.fingerprint()
