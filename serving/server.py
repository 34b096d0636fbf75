r"""A PredictionService server for the exported AD policy, for local use and tests.

  python -m serving.server --model_base_path=runs/demo/export --model_name=ad --port=8500 \
      --rest_api_port=8501

Serves the latest integer version under --model_base_path over TF Serving's gRPC and REST APIs
(`serving.prediction_service`). In production, run the real `tensorflow_model_server` instead
(serving/README.md); clients do not change.
"""

from absl import app
from absl import flags
from absl import logging

from serving import prediction_service

flags.DEFINE_string('model_base_path', None, 'Directory of integer version subdirectories.')
flags.DEFINE_string('model_name', 'ad', 'Name clients address the model by.')
flags.DEFINE_integer('port', 8500, 'gRPC port.')
flags.DEFINE_integer('rest_api_port', 0, 'REST port (0: no REST API).')
flags.DEFINE_integer('threads', 16, 'Request threads.')
flags.mark_flag_as_required('model_base_path')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  logging.set_verbosity(logging.INFO)
  grpc_server, _, _ = prediction_service.serve(FLAGS.model_base_path, FLAGS.model_name,
                                               FLAGS.port, FLAGS.rest_api_port, FLAGS.threads)
  grpc_server.wait_for_termination()


if __name__ == '__main__':
  app.run(main)
