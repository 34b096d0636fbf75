"""The RL² agent: TF-Agents PPO with an LSTM actor and an LSTM critic.

The paper's RL² (Appendix N, Table 6) is A3C with a 2-layer LSTM of 256 units, learning rate 3e-4,
batch 256 and unroll 20, on trials of 10 episodes. Here it is TF-Agents' `PPOClipAgent` (the
project's stand-in for A3C, as for the source) with `ActorDistributionRnnNetwork` and
`ValueRnnNetwork`, trained on whole trials (backpropagation through the whole trial rather than
unrolls of 20 steps: a trial is one tf_agents episode, and PPO takes whole episodes).
"""

from typing import Any, Dict, Optional, Sequence

import gin
import tensorflow as tf
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.networks import actor_distribution_rnn_network
from tf_agents.networks import value_rnn_network
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

import ad_tf.envs
from ad_tf.rl2 import trial_inputs


@gin.configurable('rl2_agent')
def hyperparameters(
    lstm_size: Sequence[int] = (256, 256),
    input_fc_layer_params: Sequence[int] = (128,),
    output_fc_layer_params: Sequence[int] = (),
    learning_rate: float = 3e-4,
    discount_factor: float = 0.99,
    lambda_value: float = 0.95,
    entropy_regularization: float = 0.01,
    importance_ratio_clipping: float = 0.2,
    value_pred_loss_coef: float = 0.5,
    num_epochs: int = 4,
    gradient_clipping: float = 0.5,
    adam_epsilon: float = 1e-5) -> Dict[str, Any]:
  """The agent's hyperparameters as gin configures them (`rl2_agent.*`; JSON-ready, for the
  RL² record)."""
  return {k: list(v) if isinstance(v, (tuple, list)) else v for k, v in locals().items()}


def build(env_name: str, params: Dict[str, Any], seed: int,
          epochs_per_train: Optional[int] = None) -> ppo_clip_agent.PPOClipAgent:
  """A fresh PPO agent with LSTM networks for `env_name`, its weights drawn from `seed`.

  `epochs_per_train` overrides the passes one `train` call takes (the trainer makes its own
  passes over minibatches with 1); None keeps `params['num_epochs']`.
  """
  tf.keras.utils.set_random_seed(seed)
  observation_spec = trial_inputs.input_spec(env_name)
  spec = ad_tf.envs.get_spec(env_name)
  action_spec = tensor_spec.BoundedTensorSpec((), tf.int32, 0, spec.num_actions - 1,
                                              name='action')
  shared = dict(input_fc_layer_params=tuple(params['input_fc_layer_params']),
                lstm_size=tuple(params['lstm_size']))
  actor_net = actor_distribution_rnn_network.ActorDistributionRnnNetwork(
      observation_spec, action_spec,
      preprocessing_layers=trial_inputs.preprocessing_layers(env_name),
      preprocessing_combiner=trial_inputs.preprocessing_combiner(),
      output_fc_layer_params=tuple(params['output_fc_layer_params']), **shared)
  value_net = value_rnn_network.ValueRnnNetwork(
      observation_spec,
      preprocessing_layers=trial_inputs.preprocessing_layers(env_name),
      preprocessing_combiner=trial_inputs.preprocessing_combiner(),
      output_fc_layer_params=tuple(params['output_fc_layer_params']), **shared)
  optimizer = tf.keras.optimizers.Adam(params['learning_rate'], epsilon=params['adam_epsilon'])
  agent = ppo_clip_agent.PPOClipAgent(
      ts.time_step_spec(observation_spec), action_spec, optimizer=optimizer,
      actor_net=actor_net, value_net=value_net,
      importance_ratio_clipping=params['importance_ratio_clipping'],
      lambda_value=params['lambda_value'], discount_factor=params['discount_factor'],
      entropy_regularization=params['entropy_regularization'],
      value_pred_loss_coef=params['value_pred_loss_coef'],
      num_epochs=epochs_per_train or params['num_epochs'],
      gradient_clipping=params['gradient_clipping'] or None, use_gae=True,
      normalize_rewards=False, normalize_observations=False,
      train_step_counter=tf.Variable(0, dtype=tf.int64, name='train_step'))
  agent.initialize()
  optimizer.build(agent.trainable_variables)
  return agent
