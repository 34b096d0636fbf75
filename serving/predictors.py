"""Clients of a served AD policy, and an in-context rollout that uses only the export's contract.

The rollout asks `get_initial_state` once, then calls `action` every step with the observation,
the previous action and reward and the `state_*` tensors of the previous reply (serving/README.md).
"""

import json
import urllib.request
from typing import Dict, List

import grpc
import numpy as np
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

import ad_tf.envs
from serving import tensor_codec


class GrpcPredictor:
  """PredictionService.Predict over gRPC."""

  def __init__(self, target: str, model_name: str, timeout: float = 30.0):
    self._stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(target))
    self._model_name = model_name
    self._timeout = timeout

  def predict(self, signature: str, inputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = self._model_name
    request.model_spec.signature_name = signature
    for name, value in inputs.items():
      request.inputs[name].CopyFrom(tensor_codec.to_proto(value))
    response = self._stub.Predict(request, timeout=self._timeout)
    return {name: tensor_codec.to_ndarray(proto) for name, proto in response.outputs.items()}


class RestPredictor:
  """TF Serving's REST :predict with columnar inputs."""

  def __init__(self, target: str, model_name: str, timeout: float = 30.0):
    self._url = f'http://{target}/v1/models/{model_name}:predict'
    self._timeout = timeout

  def predict(self, signature: str, inputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    body = json.dumps({'signature_name': signature,
                       'inputs': {k: np.asarray(v).tolist() for k, v in inputs.items()}})
    request = urllib.request.Request(self._url, body.encode(),
                                     {'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=self._timeout) as reply:
      outputs = json.loads(reply.read())['outputs']
    return {k: np.asarray(v) for k, v in outputs.items()}


def in_context_rollout(predictor, env_name: str, task: Dict[str, np.ndarray], episodes: int,
                       env_seed: int, policy_seed: int) -> List[float]:
  """Runs `episodes` episodes of `task` with the served policy; returns each episode's return."""
  state = predictor.predict('get_initial_state', {'batch_size': np.int32(1)})
  state['state_seed'] = np.array([policy_seed], np.int64)
  state = {k: np.asarray(v) for k, v in state.items()}
  env = ad_tf.envs.load(env_name, task, seed=env_seed)
  observation_dtype = env.observation_spec().dtype  # The export's signature takes this dtype.
  time_step = env.reset()
  prev_action, prev_reward = 0, 0.0
  returns = []
  for _ in range(episodes):
    episode_return = 0.0
    while True:
      reply = predictor.predict('action', {
          'observation': np.asarray(time_step.observation, observation_dtype)[None],
          'prev_action': np.array([prev_action], np.int32),
          'prev_reward': np.array([prev_reward], np.float32), **state})
      state = {k: reply[k] for k in state}
      prev_action = int(reply['action'][0])
      time_step = env.step(np.int32(prev_action))
      prev_reward = float(time_step.reward)
      episode_return += prev_reward
      if time_step.is_last():
        break
    returns.append(episode_return)
    time_step = env.reset()
  return returns
