r"""A TF Serving-compatible server for the exported models, for local use and tests.

  python -m serving.server --model_config_file=serving/models.config --port=8500 \
      --rest_api_port=8501
  python -m serving.server --model_base_path=runs/demo/export/ad --model_name=ad --port=8500

The flags are `tensorflow_model_server`'s: several models from a ModelServerConfig
(--model_config_file, TF Serving's text format), or one (--model_base_path, --model_name), each
base path polled every --file_system_poll_wait_seconds for new versions (`serving.servables`);
--enable_batching with --batching_parameters_file batches concurrent requests (`serving.batching`).
gRPC PredictionService and ModelService and the REST API (`serving.prediction_service`). In
production run the real `tensorflow_model_server` with the same flags (serving/README.md);
clients do not change.
"""

import sys

from absl import app
from absl import flags
from absl import logging

from serving import batching as batching_lib
from serving import model_config
from serving import prediction_service
from serving import saved_model_runner

flags.DEFINE_string('model_config_file', None, 'ModelServerConfig in text format.')
flags.DEFINE_string('model_base_path', None, 'One model: its directory of integer versions.')
flags.DEFINE_string('model_name', 'ad', 'With --model_base_path: the name clients use.')
flags.DEFINE_integer('port', 8500, 'gRPC port.')
flags.DEFINE_integer('rest_api_port', 0, 'REST port (0: no REST API).')
flags.DEFINE_float('file_system_poll_wait_seconds', 1.0,
                   'Seconds between polls of the base paths for new versions (0: load once).')
flags.DEFINE_integer('threads', 16, 'Request threads.')
flags.DEFINE_bool('enable_batching', False, 'Run concurrent calls of a batchable signature as '
                  'one batch (serving.batching).')
flags.DEFINE_string('batching_parameters_file', None, 'With --enable_batching: TF Serving\'s '
                    'BatchingParameters in text format (default: max_batch_size 32, '
                    'batch_timeout_micros 0, num_batch_threads 1).')
flags.DEFINE_integer('tensorflow_intra_op_parallelism', 0, 'Threads of one op (0: TF decides).')
flags.DEFINE_integer('tensorflow_inter_op_parallelism', 0,
                     'Threads running independent ops of one call (0: TF decides).')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  logging.set_verbosity(logging.INFO)
  if bool(FLAGS.model_config_file) == bool(FLAGS.model_base_path):
    sys.exit('error: give exactly one of --model_config_file and --model_base_path.')
  try:
    config = (model_config.read(FLAGS.model_config_file) if FLAGS.model_config_file else
              model_config.single(FLAGS.model_name, FLAGS.model_base_path))
    batching = None
    if FLAGS.enable_batching:
      batching = (batching_lib.read(FLAGS.batching_parameters_file)
                  if FLAGS.batching_parameters_file else batching_lib.BatchingParameters())
    elif FLAGS.batching_parameters_file:
      sys.exit('error: --batching_parameters_file needs --enable_batching.')
    options = saved_model_runner.LoadOptions(batching, FLAGS.tensorflow_intra_op_parallelism,
                                             FLAGS.tensorflow_inter_op_parallelism)
    server = prediction_service.serve(config, FLAGS.port, FLAGS.rest_api_port, FLAGS.threads,
                                      FLAGS.file_system_poll_wait_seconds, options)
  except (model_config.ConfigError, batching_lib.BatchingConfigError) as error:
    sys.exit(f'error: {error}')
  server.grpc_server.wait_for_termination()


if __name__ == '__main__':
  app.run(main)
