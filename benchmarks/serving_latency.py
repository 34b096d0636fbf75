"""Per-step latency of the served AD policy over gRPC on loopback, with 1 and 8 clients.

Exports a freshly initialised model with the CPU default's size (gin/darkroom_small.gin) unless
--model_base_path points at an export, serves it with serving.prediction_service, and times
`action` calls made by in-context rollouts.
Usage: python -m benchmarks.serving_latency [--steps=400]
Prints one JSON object on its last line.
"""

import concurrent.futures
import os
import tempfile
import time

from absl import app
from absl import flags
import gin
import numpy as np
import portpicker

import ad_tf
from benchmarks import figures as figures_lib
import ad_tf.configurables  # pylint: disable=unused-import
from ad_tf.export import export
from ad_tf.model import loading
from serving import prediction_service
from serving import predictors

flags.DEFINE_string('model_base_path', '', 'An export to serve; a fresh one is made if empty.')
flags.DEFINE_integer('steps', 400, 'Timed steps per client.')
FLAGS = flags.FLAGS


class TimedPredictor(predictors.GrpcPredictor):
  """Records the wall time of every `action` call."""

  def __init__(self, *args):
    super().__init__(*args)
    self.latencies = []

  def predict(self, signature, inputs):
    start = time.perf_counter()
    outputs = super().predict(signature, inputs)
    if signature == 'action':
      self.latencies.append(time.perf_counter() - start)
    return outputs


def fresh_export(directory: str) -> str:
  gin.parse_config_file('gin/darkroom_small.gin')
  context = gin.query_parameter('train.context_length')
  model = loading.build_seeded(loading.configured_model(ad_tf.envs.get_spec('darkroom')), 0,
                               context)
  export.save_policy(model, context, os.path.join(directory, '1'))
  return directory


def latencies_ms(target: str, clients: int) -> np.ndarray:
  task = ad_tf.envs.get_family('darkroom').split_tasks('test')[0]
  episodes = FLAGS.steps // 20
  timed = [TimedPredictor(target, 'ad') for _ in range(clients)]
  with concurrent.futures.ThreadPoolExecutor(clients) as pool:
    for future in [pool.submit(predictors.in_context_rollout, p, 'darkroom', task, episodes,
                               seed, seed) for seed, p in enumerate(timed)]:
      future.result()
  return np.concatenate([p.latencies[20:] for p in timed]) * 1000  # Skip warm-up calls.


def main(argv):
  del argv
  with tempfile.TemporaryDirectory() as scratch:
    base = FLAGS.model_base_path or fresh_export(scratch)
    port = portpicker.pick_unused_port()
    server = prediction_service.serve_base_path(base, 'ad', port)
    figures = {}
    try:
      for clients in (1, 8, 16):
        ms = latencies_ms(f'localhost:{port}', clients)
        figures[f'clients_{clients}_p50_ms'] = round(float(np.percentile(ms, 50)), 2)
        figures[f'clients_{clients}_p99_ms'] = round(float(np.percentile(ms, 99)), 2)
        figures[f'clients_{clients}_steps_per_s'] = round(clients * 1000 / float(np.mean(ms)))
    finally:
      server.stop()
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
