"""The server as TF Serving behaves: several models from a models.config, version policies,
versions asked for by number, hot reload from the base paths, model status and metadata, and an
answer to every malformed request."""

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import grpc
import numpy as np
import portpicker
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.apis import model_service_pb2_grpc
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc
from tensorflow_serving.config import model_server_config_pb2
from google.protobuf import text_format

import ad_tf.envs
from serving import batching
from serving import model_config
from serving import prediction_service
from serving import predictors
from serving import saved_model_runner
from tests.tiny_runs import REPO


def config_of(text):
  return text_format.Parse(text, model_server_config_pb2.ModelServerConfig())


@pytest.fixture
def base_paths(tiny_export_root, tmp_path):
  """export/ad with versions 3 and 20 and export/ed with version 7, all the tiny model."""
  exported = os.path.join(tiny_export_root, 'export', 'ad', '20')
  for model, version in (('ad', 3), ('ad', 20), ('ed', 7)):
    shutil.copytree(exported, tmp_path / model / str(version))
  return tmp_path


def start(config, poll=0.0, options=saved_model_runner.LoadOptions()):
  port, rest_port = portpicker.pick_unused_port(), portpicker.pick_unused_port()
  server = prediction_service.serve(config, port, rest_port, poll_wait_seconds=poll,
                                    options=options)
  return server, f'localhost:{port}', f'localhost:{rest_port}'


def initial_state_request(model, version=None):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = model
  request.model_spec.signature_name = 'get_initial_state'
  if version is not None:
    request.model_spec.version.value = version
  request.inputs['batch_size'].CopyFrom(tf.make_tensor_proto(np.int32(1)))
  return request


def prediction_stub(target):
  return prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(target))


def rest(target, path, body=None):
  """(status, JSON reply) of GET (body None) or POST `body` (bytes) at `path`."""
  request = urllib.request.Request(f'http://{target}{path}', body,
                                   {'Content-Type': 'application/json'} if body else {})
  try:
    with urllib.request.urlopen(request, timeout=30) as reply:
      return reply.status, json.loads(reply.read())
  except urllib.error.HTTPError as error:
    return error.code, json.loads(error.read())


def status_versions(target, model):
  stub = model_service_pb2_grpc.ModelServiceStub(grpc.insecure_channel(target))
  request = get_model_status_pb2.GetModelStatusRequest()
  request.model_spec.name = model
  return [s.version for s in stub.GetModelStatus(request, timeout=30).model_version_status]


def test_several_models_and_versions_from_a_model_config(base_paths):
  config = config_of(f'''model_config_list {{
      config {{ name: "ad" base_path: "{base_paths / 'ad'}" model_platform: "tensorflow"
               model_version_policy {{ all {{}} }} }}
      config {{ name: "ed" base_path: "{base_paths / 'ed'}" model_platform: "tensorflow" }} }}''')
  server, target, rest_target = start(config)
  try:
    stub = prediction_stub(target)
    assert stub.Predict(initial_state_request('ad'), timeout=30).model_spec.version.value == 20
    assert stub.Predict(initial_state_request('ad', 3), timeout=30).model_spec.version.value == 3
    assert stub.Predict(initial_state_request('ed'), timeout=30).model_spec.version.value == 7
    for model, version in (('ad', 5), ('rl2', None)):
      with pytest.raises(grpc.RpcError) as error:
        stub.Predict(initial_state_request(model, version), timeout=30)
      assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert status_versions(target, 'ad') == [3, 20] and status_versions(target, 'ed') == [7]
    # REST: a version by path, status and metadata.
    body = json.dumps({'signature_name': 'get_initial_state',
                       'inputs': {'batch_size': 2}}).encode()
    status, reply = rest(rest_target, '/v1/models/ad/versions/3:predict', body)
    assert status == 200 and len(reply['outputs']['state_seed']) == 2
    assert rest(rest_target, '/v1/models/ad/versions/5:predict', body)[0] == 404
    status, reply = rest(rest_target, '/v1/models/ad')
    assert status == 200 and [s['version'] for s in reply['model_version_status']] == ['3', '20']
    assert {s['state'] for s in reply['model_version_status']} == {'AVAILABLE'}
    status, reply = rest(rest_target, '/v1/models/ad/versions/3/metadata')
    assert status == 200 and reply['model_spec']['version'] == '3'
    assert {'action', 'get_initial_state', 'serving_default'} <= set(
        reply['metadata']['signature_def']['signatureDef'])
    # gRPC metadata: the SavedModel's own signature defs.
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=['signature_def'])
    request.model_spec.name = 'ed'
    response = stub.GetModelMetadata(request, timeout=30)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata['signature_def'].Unpack(signatures)
    assert 'state_observation' in signatures.signature_def['action'].inputs
  finally:
    server.stop()


def test_specific_version_policy(base_paths):
  config = config_of(f'''model_config_list {{ config {{ name: "ad"
      base_path: "{base_paths / 'ad'}" model_version_policy {{ specific {{ versions: 3 }} }} }} }}''')
  server, target, _ = start(config)
  try:
    assert status_versions(target, 'ad') == [3]
    reply = prediction_stub(target).Predict(initial_state_request('ad'), timeout=30)
    assert reply.model_spec.version.value == 3  # The latest one the policy serves.
  finally:
    server.stop()


def test_new_versions_load_without_a_restart_and_half_written_ones_never(base_paths, tmp_path):
  watched = tmp_path / 'watched'
  shutil.copytree(base_paths / 'ad' / '3', watched / '3')
  server, target, _ = start(model_config.single('ad', str(watched)), poll=0.2)
  errors, versions, stop = [], set(), threading.Event()

  def client():  # Asks for the latest version all along the reload.
    stub = prediction_stub(target)
    while not stop.is_set():
      try:
        reply = stub.Predict(initial_state_request('ad'), timeout=30)
        versions.add(reply.model_spec.version.value)
      except grpc.RpcError as error:
        errors.append(error)

  threads = [threading.Thread(target=client) for _ in range(4)]
  try:
    for thread in threads:
      thread.start()
    # Half-written versions: no variables yet, or still under a temporary name.
    os.makedirs(watched / '30')
    shutil.copy(base_paths / 'ad' / '20' / 'saved_model.pb', watched / '30')
    shutil.copytree(base_paths / 'ad' / '20', watched / '20.tmp')
    time.sleep(1.5)
    assert status_versions(target, 'ad') == [3]
    os.rename(watched / '20.tmp', watched / '20')  # Complete: served from the next poll on.
    deadline = time.time() + 30
    while status_versions(target, 'ad') != [20] and time.time() < deadline:
      time.sleep(0.1)
    assert status_versions(target, 'ad') == [20]  # latest { num_versions: 1 }: 3 unloaded.
    time.sleep(0.5)
  finally:
    stop.set()
    for thread in threads:
      thread.join()
    server.stop()
  assert not errors and versions == {3, 20}


@pytest.mark.parametrize('body, reason', [
    (b'[1, 2]', 'must be a JSON object'),
    (b'{"instances": []}', 'non-empty list'),
    (b'{"instances": [', 'not JSON'),
    (b'{"inputs": {"batch_size": "two"}}', "is not int32 values"),
    (b'{"inputs": {}, "instances": [{}]}', 'exactly one of'),
    (b'{"instances": [1, 2]}', 'object of named inputs'),
    (b'{"signature_name": "get_initial_state", "inputs": {"batch_size": [[1]]}}',
     'has shape [1, 1]; expected []'),
])
def test_every_malformed_rest_request_gets_a_400(base_paths, body, reason):
  server, _, rest_target = start(model_config.single('ad', str(base_paths / 'ad')))
  try:
    if b'signature_name' not in body:
      body = body.replace(b'{"inputs"', b'{"signature_name": "get_initial_state", "inputs"')
    status, reply = rest(rest_target, '/v1/models/ad:predict', body)
    assert status == 400 and reason in reply['error'], reply
    good = json.dumps({'signature_name': 'get_initial_state', 'inputs': {'batch_size': 1}})
    assert rest(rest_target, '/v1/models/ad:predict', good.encode())[0] == 200
    assert rest(rest_target, '/v1/models/nothing:predict', good.encode())[0] == 404
  finally:
    server.stop()


def test_a_malformed_tensor_proto_gets_invalid_argument(base_paths):
  server, target, _ = start(model_config.single('ad', str(base_paths / 'ad')))
  try:
    request = initial_state_request('ad')
    proto = request.inputs['batch_size']
    proto.tensor_shape.dim.add(size=4)  # 4 int32 values promised ...
    proto.tensor_content = b'\x01\x02\x03'  # ... 3 bytes given.
    proto.ClearField('int_val')
    with pytest.raises(grpc.RpcError) as error:
      prediction_stub(target).Predict(request, timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Input 'batch_size' is not a valid TensorProto" in error.value.details()
    assert predictors.GrpcPredictor(target, 'ad').predict(
        'get_initial_state', {'batch_size': np.int32(1)})['state_seed'].shape == (1,)
  finally:
    server.stop()


def test_server_binary_reports_a_bad_model_config_in_one_line(tmp_path):
  bad = tmp_path / 'models.config'
  bad.write_text('model_config_list { config { name: "ad" } ')
  result = subprocess.run([sys.executable, '-m', 'serving.server', f'--model_config_file={bad}'],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
  assert result.returncode != 0 and 'Traceback' not in result.stderr
  assert result.stderr.strip().splitlines()[-1].startswith(
      f'error: {bad} is not a ModelServerConfig in text format')


def test_the_shipped_models_config_parses():
  config = model_config.read(os.path.join(REPO, 'serving', 'models.config'))
  assert [m.name for m in config.model_config_list.config] == ['ad', 'ed']


def test_load_16_clients_two_models_and_a_reload_no_errors_no_crossed_state(base_paths,
                                                                           tiny_export_root):
  """16 clients x 500 steps, half on AD and half on ED, while a new AD version is published
  mid-way (after 5 s of a load that takes ~30 s): every call is answered, and every client's
  returns are its solo run's."""
  config = config_of(f'''model_config_list {{
      config {{ name: "ad" base_path: "{base_paths / 'ad'}" }}
      config {{ name: "ed" base_path: "{base_paths / 'ed'}" }} }}''')
  # With batching, as in production: concurrent rows of the two models run in shared batches,
  # and the version unloaded mid-load answers what it has queued.
  server, target, _ = start(config, poll=0.2, options=saved_model_runner.LoadOptions(
      batching=batching.BatchingParameters(max_batch_size=8, batch_timeout_micros=500)))
  task = ad_tf.envs.get_family('darkroom').split_tasks('test')[0]
  episodes = 25  # x 20 steps = 500 steps per client.
  try:
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
      futures = [pool.submit(predictors.in_context_rollout,
                             predictors.GrpcPredictor(target, 'ad' if seed % 2 else 'ed'),
                             'darkroom', task, episodes, seed, seed) for seed in range(16)]
      time.sleep(5)
      shutil.copytree(base_paths / 'ad' / '20', base_paths / 'ad' / '21.tmp')
      os.rename(base_paths / 'ad' / '21.tmp', base_paths / 'ad' / '21')  # Published mid-load.
      returns = [f.result() for f in futures]  # Raises on any failed call.
    assert status_versions(target, 'ad') == [21]
  finally:
    server.stop()
  policy = tf.saved_model.load(os.path.join(tiny_export_root, 'export', 'ad', '20'))

  class InProcess:
    def predict(self, signature, inputs):
      outputs = policy.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
      return {k: v.numpy() for k, v in outputs.items()}

  for seed in (0, 7, 12):  # Every version is the same model: each client equals its solo run.
    assert returns[seed] == predictors.in_context_rollout(InProcess(), 'darkroom', task,
                                                          episodes, seed, seed)
