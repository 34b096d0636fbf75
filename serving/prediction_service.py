"""TF Serving's PredictionService (gRPC Predict and REST :predict) over one exported SavedModel.

It speaks the gRPC API through the official `tensorflow_serving.apis` protos (Predict with
`model_spec.signature_name`) and the REST `:predict` API (columnar "inputs" or row "instances"),
serving the latest integer version under a model base path, so clients written for
`tensorflow_model_server` work unchanged. Malformed requests get INVALID_ARGUMENT (HTTP 400)
saying what was expected, and the server keeps serving.
"""

import concurrent.futures
import http.server
import json
import re
import threading

from absl import logging
import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

from serving import saved_model_runner


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
  """TF Serving's Predict over one SavedModel."""

  def __init__(self, runner: saved_model_runner.SavedModelRunner, model_name: str):
    self._runner = runner
    self._model_name = model_name

  def Predict(self, request, context):  # pylint: disable=invalid-name
    if request.model_spec.name != self._model_name:
      context.abort(grpc.StatusCode.NOT_FOUND,
                    f'Servable not found for model {request.model_spec.name!r}; this server '
                    f'serves {self._model_name!r}.')
    signature = request.model_spec.signature_name or 'serving_default'
    try:
      inputs = {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}
      outputs = self._runner.run(signature, inputs)
    except saved_model_runner.RequestError as error:
      context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
    response = predict_pb2.PredictResponse()
    response.model_spec.name = self._model_name
    response.model_spec.version.value = self._runner.version
    response.model_spec.signature_name = signature
    wanted = set(request.output_filter) or set(outputs)
    for name in wanted & set(outputs):
      response.outputs[name].CopyFrom(tf.make_tensor_proto(outputs[name]))
    return response


def _rest_handler(runner: saved_model_runner.SavedModelRunner, model_name: str):
  """TF Serving's REST predict: POST /v1/models/<name>[/versions/<v>]:predict."""
  route = re.compile(rf'^/v1/models/{re.escape(model_name)}(/versions/\d+)?:predict$')

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

    def do_POST(self):  # pylint: disable=invalid-name
      if not route.match(self.path):
        return self._reply(404, {'error': f'No model at {self.path}; POST '
                                          f'/v1/models/{model_name}:predict'})
      try:
        request = json.loads(self.rfile.read(int(self.headers.get('Content-Length', 0))))
        signature = request.get('signature_name', 'serving_default')
        specs = runner.input_specs(signature)
        rows = 'instances' in request
        if rows:
          columns = {k: [row[k] for row in request['instances']] for k in request['instances'][0]}
        else:
          columns = request.get('inputs', {})
        inputs = {k: np.asarray(v, dtype=specs[k].dtype.as_numpy_dtype) if k in specs else v
                  for k, v in columns.items()}
        outputs = runner.run(signature, inputs)
      except (saved_model_runner.RequestError, KeyError, TypeError, ValueError) as error:
        return self._reply(400, {'error': str(error)})
      if rows:
        size = len(next(iter(outputs.values())))
        return self._reply(200, {'predictions': [
            {k: v[i].tolist() for k, v in outputs.items()} for i in range(size)]})
      return self._reply(200, {'outputs': {k: v.tolist() for k, v in outputs.items()}})

  return Handler


def serve(model_base_path: str, model_name: str, port: int, rest_api_port: int = 0,
          threads: int = 16):
  """Starts the servers; returns (grpc_server, http_server or None, bound gRPC port)."""
  runner = saved_model_runner.SavedModelRunner(model_base_path)
  grpc_server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=threads))
  prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
      PredictionService(runner, model_name), grpc_server)
  bound = grpc_server.add_insecure_port(f'localhost:{port}')
  grpc_server.start()
  rest = None
  if rest_api_port:
    rest = http.server.ThreadingHTTPServer(('localhost', rest_api_port),
                                           _rest_handler(runner, model_name))
    threading.Thread(target=rest.serve_forever, daemon=True).start()
  logging.info('Serving %s version %d from %s: gRPC localhost:%d%s', model_name, runner.version,
               runner.path, bound, f', REST localhost:{rest_api_port}' if rest else '')
  return grpc_server, rest, bound
