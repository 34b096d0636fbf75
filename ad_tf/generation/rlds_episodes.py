"""Learning histories -> RLDS episodes (plain dicts of numpy arrays), one per environment episode.

Field names are RLDS's own constants (`rlds.OBSERVATION`, `rlds.IS_FIRST`, ...), so the episodes
read as RLDS wherever RLDS tools look for them.
"""

from typing import Dict, Iterator

import numpy as np
import rlds

from ad_tf.sources import learning_history

#: The step field holding the distribution the source drew each action from (not an RLDS core
#: field: step metadata).
ACTION_PROBS = 'action_probs'


def episode_steps(observations: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                  action_probs: np.ndarray, observation_dtype: np.dtype) -> Dict[str, np.ndarray]:
  """RLDS steps of one time-limited episode of L actions: L + 1 steps.

  Step t holds o_t, a_t, the reward a_t earned and the probabilities the source's policy gave
  each action at o_t; step L holds the final observation, with padding action 0, reward 0 and
  probabilities 0. Episodes end by time limit, so no step is terminal and every discount is 1.
  """
  num_steps = len(actions) + 1
  index = np.arange(num_steps)
  return {
      rlds.OBSERVATION: observations.astype(observation_dtype, copy=False),
      rlds.ACTION: np.append(actions, 0).astype(np.int32),
      rlds.REWARD: np.append(rewards, 0).astype(np.float32),
      ACTION_PROBS: np.concatenate([action_probs, np.zeros_like(action_probs[:1])]).astype(
          np.float32),
      rlds.DISCOUNT: np.ones(num_steps, np.float32),
      rlds.IS_FIRST: index == 0,
      rlds.IS_LAST: index == num_steps - 1,
      rlds.IS_TERMINAL: np.zeros(num_steps, bool),
  }


def episodes(histories: learning_history.LearningHistories, source_episodes: np.ndarray, *,
             observation_dtype: np.dtype, task: Dict[str, np.ndarray], task_index: int,
             seed: int, source: str, first_history_id: int) -> Iterator[dict]:
  """Every episode of every actor's history, in history order then episode order.

  Args:
    histories: the kept episodes of each actor.
    source_episodes: [episodes] each kept episode's index in the actor's full stream.
    observation_dtype: the environment's observation dtype (its spec).
    task, task_index, seed, source: episode metadata shared by all histories of the task.
    first_history_id: `history_id` of actor 0; actor a gets first_history_id + a.
  """
  for actor in range(histories.num_actors):
    for index in range(histories.num_episodes):
      yield {
          rlds.STEPS: episode_steps(histories.observations[actor, index],
                                    histories.actions[actor, index],
                                    histories.rewards[actor, index],
                                    histories.action_probs[actor, index], observation_dtype),
          'history_id': first_history_id + actor,
          'episode_index': index,
          'source_episode': int(source_episodes[index]),
          'task_index': task_index,
          'task': task,
          'source': source,
          'seed': seed,
          'actor': actor,
      }
