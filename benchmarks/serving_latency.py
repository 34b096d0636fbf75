"""Per-step latency of the served AD policy over gRPC on loopback: 1, 8 and 16 clients, at the
Dark Room context (80) and the Key-to-Door context (200).

For each context, exports a freshly initialised model of the CPU default's size
(gin/darkroom_small.gin, `max_length` = the context) unless --model_base_path points at an
export, serves it with `python -m serving.server` in its own process (as a user runs it), and
times the `action` calls of in-context rollouts run by client threads. A step's cost is one
token's decoding against the cached keys and values carried in the state, except the call that
slides a full context (one per episode), which re-encodes the kept tokens: that call is in the
p99, not the p50. Each is served twice: as is, and with --enable_batching (concurrent calls run
as one batch, serving.batching). Also reports the exported `action` alone in a TF1 session, the way
tensorflow_model_server runs it (no gRPC, no Python server).
Usage: python -m benchmarks.serving_latency [--steps=400] [--contexts=80,200]
Prints one JSON object on its last line.
"""

import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
import gin
import grpc
import numpy as np
import portpicker
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.apis import model_service_pb2_grpc

import ad_tf
from benchmarks import figures as figures_lib
import ad_tf.configurables  # pylint: disable=unused-import
from ad_tf.export import export
from ad_tf.model import loading
from serving import predictors
from serving import saved_model_runner

flags.DEFINE_string('model_base_path', '', 'An export to serve (Dark Room); fresh ones if empty.')
flags.DEFINE_integer('steps', 400, 'Timed steps per client.')
flags.DEFINE_list('contexts', ['80', '200'], 'Context lengths to measure (fresh exports).')
FLAGS = flags.FLAGS

#: The environment whose episodes fill each context: 4 episodes of Dark Room or Key-to-Door.
ENV_OF_CONTEXT = {80: 'darkroom', 200: 'key_to_door'}


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


def fresh_export(directory: str, env_name: str, context: int) -> str:
  with gin.unlock_config():
    gin.clear_config()
    gin.parse_config_files_and_bindings(
        ['gin/darkroom_small.gin'], [f'AlgorithmDistillationTransformer.max_length = {context}'])
  model = loading.build_seeded(loading.configured_model(ad_tf.envs.get_spec(env_name)), 0,
                               context)
  export.save_policy(model, context, os.path.join(directory, '1'))
  return directory


def start_server(base_path: str, port: int, batching: bool) -> subprocess.Popen:
  server = subprocess.Popen(
      [sys.executable, '-m', 'serving.server', f'--model_base_path={base_path}',
       '--model_name=ad', f'--port={port}', '--file_system_poll_wait_seconds=0',
       f'--enable_batching={batching}'],
      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  stub = model_service_pb2_grpc.ModelServiceStub(grpc.insecure_channel(f'localhost:{port}'))
  request = get_model_status_pb2.GetModelStatusRequest()
  request.model_spec.name = 'ad'
  deadline = time.time() + 120
  while time.time() < deadline:
    try:
      if stub.GetModelStatus(request, timeout=1).model_version_status:
        return server
    except grpc.RpcError:
      time.sleep(0.5)
  server.kill()
  raise RuntimeError(f'serving.server did not serve {base_path} within 120 s.')


def latencies_ms(target: str, env_name: str, clients: int) -> np.ndarray:
  task = ad_tf.envs.get_family(env_name).split_tasks('test')[0]
  episodes = max(1, FLAGS.steps // ad_tf.envs.get_spec(env_name).episode_length)
  timed = [TimedPredictor(target, 'ad') for _ in range(clients)]
  with concurrent.futures.ThreadPoolExecutor(clients) as pool:
    for future in [pool.submit(predictors.in_context_rollout, p, env_name, task, episodes,
                               seed, seed) for seed, p in enumerate(timed)]:
      future.result()
  return np.concatenate([p.latencies[20:] for p in timed]) * 1000  # Skip warm-up calls.


def session_latency_ms(version_dir: str, env_name: str, steps: int = 400) -> np.ndarray:
  """The exported `action` alone, called in a TF1 session as TF Serving does."""
  runner = saved_model_runner.SavedModelRunner(version_dir, 1)
  state = runner.run('get_initial_state', {'batch_size': np.int32(1)})
  spec = ad_tf.envs.get_spec(env_name)
  times = []
  for _ in range(steps):
    start = time.perf_counter()
    reply = runner.run('action', {'observation': spec.zero_observation()[None],
                                  'prev_action': np.zeros([1], np.int32),
                                  'prev_reward': np.zeros([1], np.float32), **state})
    times.append(time.perf_counter() - start)
    state = {k: v for k, v in reply.items() if k.startswith('state_')}
  return np.array(times[20:]) * 1000


def main(argv):
  del argv
  figures = {}
  with tempfile.TemporaryDirectory() as scratch:
    runs = ([(80, 'darkroom', FLAGS.model_base_path)] if FLAGS.model_base_path else
            [(int(c), ENV_OF_CONTEXT[int(c)], '') for c in FLAGS.contexts])
    for context, env_name, base in runs:
      base = base or fresh_export(os.path.join(scratch, str(context)), env_name, context)
      versions = sorted(int(v) for v in os.listdir(base) if v.isdigit())
      ms = session_latency_ms(os.path.join(base, str(versions[-1])), env_name)
      figures[f'context_{context}_session_p50_ms'] = round(float(np.percentile(ms, 50)), 2)
      for batching in (False, True):
        port = portpicker.pick_unused_port()
        server = start_server(base, port, batching)
        try:
          for clients in (1, 8, 16):
            ms = latencies_ms(f'localhost:{port}', env_name, clients)
            name = f'context_{context}{"_batching" if batching else ""}_clients_{clients}'
            figures[f'{name}_p50_ms'] = round(float(np.percentile(ms, 50)), 2)
            figures[f'{name}_p99_ms'] = round(float(np.percentile(ms, 99)), 2)
            figures[f'{name}_steps_per_s'] = round(clients * 1000 / float(np.mean(ms)))
            print(name, figures[f'{name}_p50_ms'], figures[f'{name}_p99_ms'], flush=True)
        finally:
          server.kill()
          server.wait()
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
