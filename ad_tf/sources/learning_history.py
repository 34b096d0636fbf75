"""The output of a source algorithm on one task: one learning history per actor."""

import dataclasses

import numpy as np


@dataclasses.dataclass
class LearningHistories:
  """Every episode of every actor on one task, in the order they were played.

  Attributes:
    observations: [actors, episodes, episode_length + 1, *obs_shape]; index t is o_t, the last
      index the final observation.
    actions: [actors, episodes, episode_length] int32; a_t taken at o_t.
    rewards: [actors, episodes, episode_length] float32; the reward a_t earned.
    action_probs: [actors, episodes, episode_length, num_actions] float32; the distribution the
      source's policy drew a_t from (one-hot for a deterministic choice).
  """

  observations: np.ndarray
  actions: np.ndarray
  rewards: np.ndarray
  action_probs: np.ndarray

  @classmethod
  def from_time_major_episodes(cls, episodes) -> 'LearningHistories':
    """From a list, one item per episode, of (observations [L + 1, A, ...], actions [L, A],
    rewards [L, A], action_probs [L, A, num_actions]) as collected by a batched loop."""
    return cls(*(np.stack([np.swapaxes(episode[i], 0, 1) for episode in episodes], axis=1)
                 for i in range(4)))

  @property
  def num_actors(self) -> int:
    return self.actions.shape[0]

  @property
  def num_episodes(self) -> int:
    return self.actions.shape[1]

  def returns(self) -> np.ndarray:
    """Episode returns, [actors, episodes]."""
    return self.rewards.sum(axis=-1)

  def select_episodes(self, indices: np.ndarray) -> 'LearningHistories':
    """The episodes at `indices` of every history (subsampling, the converged tail for ED)."""
    return LearningHistories(self.observations[:, indices], self.actions[:, indices],
                             self.rewards[:, indices], self.action_probs[:, indices])
