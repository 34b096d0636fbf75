"""TF Serving's APIs over a `ServableManager`: gRPC PredictionService (Predict,
GetModelMetadata) and ModelService (GetModelStatus), and the REST API.

It speaks gRPC through the official `tensorflow_serving.apis` protos and the REST API of
`tensorflow_model_server` (POST /v1/models/<name>[/versions/<v>]:predict with columnar "inputs"
or row "instances"; GET /v1/models/<name>[/versions/<v>] for the status, .../metadata for the
signatures), so clients written for the real server work unchanged. A request names a model and
optionally a version (`model_spec.version`, `/versions/<v>`); without one it gets the latest
loaded version. Unknown models or versions get NOT_FOUND (HTTP 404); every malformed request
(bad JSON, wrong types, empty instances, malformed TensorProtos, wrong shapes) gets
INVALID_ARGUMENT (HTTP 400 with {"error": ...}) saying what was expected, and the server keeps
serving.
"""

import concurrent.futures
import dataclasses
import http.server
import json
import re
import threading
from typing import Optional

from absl import logging
from google.protobuf import json_format
import grpc
import numpy as np
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.apis import model_service_pb2_grpc
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc
from tensorflow_serving.config import model_server_config_pb2

from serving import batching as batching_lib
from serving import model_config
from serving import saved_model_runner
from serving import servables
from serving import tensor_codec

_AVAILABLE = get_model_status_pb2.ModelVersionStatus.State.AVAILABLE


def _requested_version(model_spec) -> Optional[int]:
  if model_spec.version_label:
    raise saved_model_runner.RequestError(
        f'Version labels ({model_spec.version_label!r}) are not configured on this server; '
        'ask for a version number (model_spec.version) or none for the latest.')
  return model_spec.version.value if model_spec.HasField('version') else None


def _to_ndarray(name: str, proto) -> np.ndarray:
  try:
    return tensor_codec.to_ndarray(proto)
  except Exception as error:  # pylint: disable=broad-except  (any malformed TensorProto)
    raise saved_model_runner.RequestError(
        f'Input {name!r} is not a valid TensorProto ({type(error).__name__}: {error}).') from None


def predict(runner: saved_model_runner.SavedModelRunner, signature: str, inputs, output_filter=()):
  """Runs one Predict; returns the outputs that `output_filter` (default: all) asks for."""
  outputs = runner.run(signature, inputs)
  unknown = sorted(set(output_filter) - set(outputs))
  if unknown:
    raise saved_model_runner.RequestError(f'output_filter names outputs {unknown} that '
                                          f'{signature!r} does not have ({sorted(outputs)}).')
  return {name: outputs[name] for name in (output_filter or outputs)}


def _grpc_call(context, function):
  """function(), its request errors mapped to gRPC status codes."""
  try:
    return function()
  except servables.NotFoundError as error:
    context.abort(grpc.StatusCode.NOT_FOUND, str(error))
  except saved_model_runner.RequestError as error:
    context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
  except batching_lib.QueueFullError as error:
    context.abort(grpc.StatusCode.UNAVAILABLE, str(error))


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
  """Predict and GetModelMetadata over the manager's loaded versions."""

  def __init__(self, manager: servables.ServableManager):
    self._manager = manager

  def Predict(self, request, context):  # pylint: disable=invalid-name
    def run():
      runner = self._manager.get(request.model_spec.name, _requested_version(request.model_spec))
      signature = request.model_spec.signature_name or 'serving_default'
      inputs = {name: _to_ndarray(name, proto) for name, proto in request.inputs.items()}
      outputs = predict(runner, signature, inputs, list(request.output_filter))
      response = predict_pb2.PredictResponse()
      response.model_spec.name = request.model_spec.name
      response.model_spec.version.value = runner.version
      response.model_spec.signature_name = signature
      for name, value in outputs.items():
        response.outputs[name].CopyFrom(tensor_codec.to_proto(value))
      return response
    return _grpc_call(context, run)

  def GetModelMetadata(self, request, context):  # pylint: disable=invalid-name
    def run():
      runner = self._manager.get(request.model_spec.name, _requested_version(request.model_spec))
      return metadata_response(request.model_spec.name, runner, list(request.metadata_field))
    return _grpc_call(context, run)


def metadata_response(name: str, runner: saved_model_runner.SavedModelRunner, fields):
  if list(fields) != ['signature_def']:
    raise saved_model_runner.RequestError(
        f'metadata_field must be ["signature_def"] (the only metadata served); got {list(fields)}.')
  response = get_model_metadata_pb2.GetModelMetadataResponse()
  response.model_spec.name = name
  response.model_spec.version.value = runner.version
  signatures = get_model_metadata_pb2.SignatureDefMap()
  for key, signature_def in runner.signature_defs.items():
    signatures.signature_def[key].CopyFrom(signature_def)
  response.metadata['signature_def'].Pack(signatures)
  return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
  """GetModelStatus: the loaded versions of a model, each AVAILABLE."""

  def __init__(self, manager: servables.ServableManager):
    self._manager = manager

  def GetModelStatus(self, request, context):  # pylint: disable=invalid-name
    return _grpc_call(context, lambda: status_response(
        self._manager, request.model_spec.name, _requested_version(request.model_spec)))


def status_response(manager: servables.ServableManager, name: str, version: Optional[int]):
  versions = manager.versions(name)
  if version is not None:
    manager.get(name, version)  # NOT_FOUND unless loaded.
    versions = [version]
  response = get_model_status_pb2.GetModelStatusResponse()
  for each in versions:
    status = response.model_version_status.add(version=each, state=_AVAILABLE)
    status.status.error_code = 0
  return response


_ROUTE = re.compile(r'^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?'
                    r'(?P<tail>:predict|/metadata)?$')


def _rest_handler(manager: servables.ServableManager):
  """TF Serving's REST API over `manager`."""

  class Handler(http.server.BaseHTTPRequestHandler):

    def log_message(self, *args):  # Quiet: one line per request would drown the log.
      del args

    def _reply(self, status: int, body: dict) -> None:
      data = json.dumps(body).encode()
      self.send_response(status)
      self.send_header('Content-Type', 'application/json')
      self.send_header('Content-Length', str(len(data)))
      self.end_headers()
      self.wfile.write(data)

    def _route(self, method: str):
      match = _ROUTE.match(self.path)
      expected = {'POST': (':predict',), 'GET': (None, '/metadata')}[method]
      if not match or match['tail'] not in expected:
        self._reply(404, {'error': f'No {method} endpoint at {self.path}; TF Serving\'s are POST '
                                   '/v1/models/<name>[/versions/<v>]:predict and GET '
                                   '/v1/models/<name>[/versions/<v>][/metadata].'})
        return None
      return match['name'], int(match['version']) if match['version'] else None, match['tail']

    def _serve(self, method: str, run):
      route = self._route(method)
      if route is None:
        return
      try:
        self._reply(200, run(*route))
      except servables.NotFoundError as error:
        self._reply(404, {'error': str(error)})
      except saved_model_runner.RequestError as error:
        self._reply(400, {'error': str(error)})
      except batching_lib.QueueFullError as error:
        self._reply(503, {'error': str(error)})

    def do_GET(self):  # pylint: disable=invalid-name
      def run(name, version, tail):
        if tail == '/metadata':
          response = metadata_response(name, manager.get(name, version), ['signature_def'])
          return {'model_spec': {'name': name, 'signature_name': '',
                                 'version': str(response.model_spec.version.value)},
                  'metadata': {'signature_def': json_format.MessageToDict(
                      _unpack_signatures(response))}}
        return json_format.MessageToDict(status_response(manager, name, version),
                                         preserving_proto_field_name=True)
      self._serve('GET', run)

    def do_POST(self):  # pylint: disable=invalid-name
      def run(name, version, unused_tail):
        runner = manager.get(name, version)
        request = _parse_body(self.rfile.read(int(self.headers.get('Content-Length', 0))))
        signature = request.get('signature_name', 'serving_default')
        if not isinstance(signature, str):
          raise saved_model_runner.RequestError('"signature_name" must be a string.')
        specs = runner.input_specs(signature)
        columns, rows = _columns(request)
        inputs = {}
        for key, value in columns.items():
          if key not in specs:
            inputs[key] = value  # Named in the "unexpected inputs" error.
            continue
          try:
            inputs[key] = np.asarray(value, dtype=specs[key].dtype.as_numpy_dtype)
          except (TypeError, ValueError) as error:
            raise saved_model_runner.RequestError(
                f'Input {key!r} of {signature!r} is not {specs[key].dtype.name} values '
                f'({error}).') from None
        outputs = predict(runner, signature, inputs)
        if rows:
          size = len(next(iter(outputs.values())))
          return {'predictions': [{k: v[i].tolist() for k, v in outputs.items()}
                                  for i in range(size)]}
        return {'outputs': {k: v.tolist() for k, v in outputs.items()}}
      self._serve('POST', run)

  return Handler


def _unpack_signatures(response) -> get_model_metadata_pb2.SignatureDefMap:
  signatures = get_model_metadata_pb2.SignatureDefMap()
  response.metadata['signature_def'].Unpack(signatures)
  return signatures


def _parse_body(body: bytes) -> dict:
  try:
    request = json.loads(body)
  except (ValueError, UnicodeDecodeError) as error:
    raise saved_model_runner.RequestError(f'The request body is not JSON: {error}.') from None
  if not isinstance(request, dict):
    raise saved_model_runner.RequestError(
        f'The request body must be a JSON object with "instances" or "inputs"; got a '
        f'{type(request).__name__}.')
  return request


def _columns(request: dict):
  """The request's inputs by name (columns), and whether it came as rows ("instances")."""
  if ('instances' in request) == ('inputs' in request):
    raise saved_model_runner.RequestError(
        'The request must have exactly one of "instances" (rows) and "inputs" (columns).')
  if 'inputs' in request:
    if not isinstance(request['inputs'], dict):
      raise saved_model_runner.RequestError('"inputs" must be an object of named inputs.')
    return request['inputs'], False
  instances = request['instances']
  if not isinstance(instances, list) or not instances:
    raise saved_model_runner.RequestError('"instances" must be a non-empty list of rows.')
  if not all(isinstance(row, dict) for row in instances):
    raise saved_model_runner.RequestError('Every instance must be an object of named inputs.')
  keys = set(instances[0])
  if any(set(row) != keys for row in instances):
    raise saved_model_runner.RequestError('Every instance must name the same inputs.')
  return {key: [row[key] for row in instances] for key in keys}, True


@dataclasses.dataclass
class Server:
  """A running server: its gRPC server and port, REST server (or None) and servable manager."""

  grpc_server: grpc.Server
  port: int
  rest_server: Optional[http.server.ThreadingHTTPServer]
  manager: servables.ServableManager

  def stop(self) -> None:
    self.grpc_server.stop(None)
    if self.rest_server is not None:
      self.rest_server.shutdown()
    self.manager.stop()


def serve(config: model_server_config_pb2.ModelServerConfig, port: int,
          rest_api_port: int = 0, threads: int = 16, poll_wait_seconds: float = 1.0,
          options: saved_model_runner.LoadOptions = saved_model_runner.LoadOptions()) -> Server:
  """Loads the configured models and starts the gRPC (and REST) servers on localhost.

  `options`: batching of concurrent calls (`serving.batching`) and the sessions' thread pools.
  """
  manager = servables.ServableManager(config, poll_wait_seconds, options)
  grpc_server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=threads))
  prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
      PredictionService(manager), grpc_server)
  model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(manager), grpc_server)
  bound = grpc_server.add_insecure_port(f'localhost:{port}')
  grpc_server.start()
  rest = None
  if rest_api_port:
    rest = http.server.ThreadingHTTPServer(('localhost', rest_api_port), _rest_handler(manager))
    threading.Thread(target=rest.serve_forever, daemon=True).start()
  for name in manager.model_names:
    logging.info('Serving %s versions %s', name, manager.versions(name))
  logging.info('gRPC localhost:%d%s', bound, f', REST localhost:{rest_api_port}' if rest else '')
  return Server(grpc_server, bound, rest, manager)


def serve_base_path(model_base_path: str, model_name: str, port: int, rest_api_port: int = 0,
                    **kwargs) -> Server:
  """One model's latest version (--model_base_path/--model_name)."""
  return serve(model_config.single(model_name, model_base_path), port, rest_api_port, **kwargs)
