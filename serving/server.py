r"""A TF Serving-compatible server for the exported models, for local use and tests.

  python -m serving.server --model_config_file=serving/models.config --port=8500 \
      --rest_api_port=8501
  python -m serving.server --model_base_path=runs/demo/export/ad --model_name=ad --port=8500

The flags are `tensorflow_model_server`'s: several models from a ModelServerConfig
(--model_config_file, TF Serving's text format), or one (--model_base_path, --model_name), each
base path polled every --file_system_poll_wait_seconds for new versions (`serving.servables`).
gRPC PredictionService and ModelService and the REST API (`serving.prediction_service`). In
production run the real `tensorflow_model_server` with the same flags (serving/README.md);
clients do not change.
"""

import sys

from absl import app
from absl import flags
from absl import logging

from serving import model_config
from serving import prediction_service

flags.DEFINE_string('model_config_file', None, 'ModelServerConfig in text format.')
flags.DEFINE_string('model_base_path', None, 'One model: its directory of integer versions.')
flags.DEFINE_string('model_name', 'ad', 'With --model_base_path: the name clients use.')
flags.DEFINE_integer('port', 8500, 'gRPC port.')
flags.DEFINE_integer('rest_api_port', 0, 'REST port (0: no REST API).')
flags.DEFINE_float('file_system_poll_wait_seconds', 1.0,
                   'Seconds between polls of the base paths for new versions (0: load once).')
flags.DEFINE_integer('threads', 16, 'Request threads.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  logging.set_verbosity(logging.INFO)
  if bool(FLAGS.model_config_file) == bool(FLAGS.model_base_path):
    sys.exit('error: give exactly one of --model_config_file and --model_base_path.')
  try:
    config = (model_config.read(FLAGS.model_config_file) if FLAGS.model_config_file else
              model_config.single(FLAGS.model_name, FLAGS.model_base_path))
    server = prediction_service.serve(config, FLAGS.port, FLAGS.rest_api_port, FLAGS.threads,
                                      FLAGS.file_system_poll_wait_seconds)
  except model_config.ConfigError as error:
    sys.exit(f'error: {error}')
  server.grpc_server.wait_for_termination()


if __name__ == '__main__':
  app.run(main)
