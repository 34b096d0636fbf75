"""A real PredictionService on loopback: rollouts over gRPC and REST, bad requests, load."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import grpc
import numpy as np
import portpicker
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

import ad_tf.envs
from serving import prediction_service
from serving import predictors
from tests.tiny_runs import REPO
from tests.tiny_runs import TINY_GIN as TINY


@pytest.fixture(scope='module')
def served(tiny_export_root):
  """A PredictionService on loopback serving the session's tiny exported model (export/20)."""
  root = tiny_export_root
  grpc_port, rest_port = portpicker.pick_unused_port(), portpicker.pick_unused_port()
  server = prediction_service.serve_base_path(os.path.join(root, 'export', 'ad'), 'ad',
                                             grpc_port, rest_port)
  yield f'localhost:{grpc_port}', f'localhost:{rest_port}', root
  server.stop()


TASK = ad_tf.envs.get_family('darkroom').split_tasks('test')[0]


def solo_rollout(root, episodes, seed):
  """The same rollout without any server: the loaded SavedModel in process."""
  class Local:
    def __init__(self):
      self._policy = tf.saved_model.load(os.path.join(root, 'export', 'ad', '20'))

    def predict(self, signature, inputs):
      fn = self._policy.signatures[signature]
      return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in inputs.items()}).items()}
  return predictors.in_context_rollout(Local(), 'darkroom', TASK, episodes, seed, seed)


def test_grpc_and_rest_rollouts_equal_the_in_process_rollout(served):
  grpc_target, rest_target, root = served
  expected = solo_rollout(root, 3, seed=5)
  over_grpc = predictors.in_context_rollout(
      predictors.GrpcPredictor(grpc_target, 'ad'), 'darkroom', TASK, 3, 5, 5)
  over_rest = predictors.in_context_rollout(
      predictors.RestPredictor(rest_target, 'ad'), 'darkroom', TASK, 3, 5, 5)
  assert over_grpc == expected and over_rest == expected


def test_rollout_client_binary_prints_episode_returns(served):
  result = subprocess.run([sys.executable, '-m', 'serving.rollout_client',
                           f'--target={served[0]}', '--model_name=ad', '--env=darkroom',
                           '--episodes=2'], cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode == 0, result.stderr
  assert 'episode   1: return' in result.stdout and 'episode   2: return' in result.stdout


def grpc_predict(target, signature, inputs, model_name='ad'):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = model_name
  request.model_spec.signature_name = signature
  for name, value in inputs.items():
    request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
  stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(target))
  return stub.Predict(request, timeout=30)


def good_action_inputs(target):
  state = predictors.GrpcPredictor(target, 'ad').predict('get_initial_state',
                                                             {'batch_size': np.int32(1)})
  return {'observation': np.array([[4, 4]], np.int32), 'prev_action': np.array([0], np.int32),
          'prev_reward': np.array([0.0], np.float32), **state}


@pytest.mark.parametrize('change, message', [
    (lambda x: x.update(prev_action=np.array([0.0], np.float32)),
     "Input 'prev_action' of 'action' has dtype float32; expected int32"),
    (lambda x: x.update(observation=np.array([4, 4], np.int32)),
     "Input 'observation' of 'action' has shape [2]; expected [None, 2]"),
    (lambda x: x.pop('state_position'), "missing inputs ['state_position']"),
    (lambda x: x.update(prev_reward=np.zeros(3, np.float32)), 'disagree on the batch size'),
])
def test_malformed_requests_get_invalid_argument_and_the_server_keeps_serving(
    served, change, message):
  inputs = good_action_inputs(served[0])
  change(inputs)
  with pytest.raises(grpc.RpcError) as error:
    grpc_predict(served[0], 'action', inputs)
  assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
  assert message in error.value.details()
  assert grpc_predict(served[0], 'action', good_action_inputs(served[0])).outputs['action']


def test_unknown_signature_and_model(served):
  with pytest.raises(grpc.RpcError) as error:
    grpc_predict(served[0], 'act', good_action_inputs(served[0]))
  assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
  assert "Unknown signature 'act'; this model serves ['action', 'get_initial_state'" in (
      error.value.details())
  with pytest.raises(grpc.RpcError) as error:
    grpc_predict(served[0], 'action', good_action_inputs(served[0]), model_name='other')
  assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_rest_malformed_request_is_a_400_with_the_reason(served):
  body = json.dumps({'signature_name': 'action', 'inputs': {'observation': [[4, 4]]}}).encode()
  request = urllib.request.Request(f'http://{served[1]}/v1/models/ad:predict', body,
                                   {'Content-Type': 'application/json'})
  with pytest.raises(urllib.error.HTTPError) as error:
    urllib.request.urlopen(request, timeout=30)
  assert error.value.code == 400
  assert 'missing inputs' in json.loads(error.value.read())['error']
