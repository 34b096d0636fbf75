"""Generation as an Apache Beam pipeline (`generate --runner=beam`), as TFDS builds large datasets.

One element per `tasks_per_call` unfinished tasks. A worker runs the source on its element's
tasks and writes their shards (the same `GenerationPlan` and atomic shard writer as a local run,
so the bytes are the same); after every element has been processed, one last step writes each
dataset's metadata, once. Re-running after a crash, or a runner's retry of an element, skips the
shards already in place, so no shard is lost or written twice.

Workers rebuild the plan from the launcher's gin configuration (`gin.config_str()`), so the
source's bindings reach every worker process. The pipeline options are Beam's own, e.g.

  --direct_num_workers=2 --direct_running_mode=multi_processing   (this machine's cores)
  --runner=DataflowRunner --project=P --region=R --temp_location=gs://B/tmp
    --setup_file=./setup.py                                         (Dataflow; root_dir gs://B/...)

Remote workers need a root_dir they can all write (files go through tf.io.gfile).
"""

import contextlib
import io
import shlex
import time
from typing import Any, Dict, Iterator, List, Optional

from absl import logging
import gin
import tensorflow as tf

from ad_tf.generation import generate as generate_lib

try:
  import apache_beam as beam  # pylint: disable=g-import-not-at-top
  from apache_beam.options import pipeline_options as beam_options  # pylint: disable=g-import-not-at-top
  from apache_beam.runners.portability.fn_api_runner import fn_runner  # pylint: disable=g-import-not-at-top
except ImportError:  # Checked in `run`, with what to install.
  beam = None


def _worker_plan(plan_args: Dict[str, Any], gin_config: str) -> generate_lib.GenerationPlan:
  """The launcher's plan, rebuilt in a worker process under the launcher's gin configuration."""
  import ad_tf.configurables  # pylint: disable=g-import-not-at-top,import-outside-toplevel,unused-import
  if gin.config_str() != gin_config:  # A fresh worker process (not the launcher's).
    with gin.unlock_config():
      gin.parse_config(gin_config)
  tf.random.set_seed(0)  # As binary_utils.run does for a local run.
  tf.config.experimental.enable_op_determinism()
  return generate_lib.GenerationPlan(**plan_args)


if beam is not None:

  class LearnTasks(beam.DoFn):
    """Runs the source on one element's tasks and writes their shards."""

    def __init__(self, plan_args: Dict[str, Any], gin_config: str, num_todo: int,
                 start_time: float):
      super().__init__()
      self._plan_args = plan_args
      self._gin_config = gin_config
      self._num_todo = num_todo
      self._start_time = start_time
      self._plan = None

    def setup(self):
      self._plan = _worker_plan(self._plan_args, self._gin_config)

    def process(self, tasks: List[int]) -> Iterator[int]:
      writers = self._plan.writers
      todo = [i for i in tasks if not all(writer.is_done(i) for _, writer in writers)]
      self._plan.run_tasks(todo)
      done = self._num_todo - len(self._plan.todo())
      elapsed = time.time() - self._start_time
      logging.info('Beam: %d/%d tasks done | %.2f tasks/s | ETA %.0f s', done, self._num_todo,
                   done / elapsed, elapsed / max(done, 1) * (self._num_todo - done))
      yield len(tasks)


def _finalize(unused_count: int, plan_args: Dict[str, Any], gin_config: str) -> bool:
  return _worker_plan(plan_args, gin_config).finalize()


def run(plan_args: Dict[str, Any], pipeline_options: str) -> Optional[str]:
  """Generates the datasets of `plan_args` (GenerationPlan's arguments) on a Beam pipeline with
  `pipeline_options` (a command line of Beam options); returns the dataset's directory."""
  if beam is None:
    raise generate_lib.GenerationError(
        '--runner=beam needs Apache Beam, which is not installed: pip install -e \'.[beam]\' '
        '(pinned by requirements.lock), or generate with --runner=local.')
  plan = generate_lib.GenerationPlan(**plan_args)  # Claims the datasets, or checks them.
  plan.discard_bad_shards()  # Here, once: the workers only write what is missing.
  todo = plan.todo()
  plan.log_todo(todo)
  per_element = plan.source.tasks_per_call
  elements = [todo[i:i + per_element] for i in range(0, len(todo), per_element)]
  options = beam_options.PipelineOptions(shlex.split(pipeline_options))
  usage = io.StringIO()
  try:
    with contextlib.redirect_stderr(usage):  # Beam's argparse prints all its options' usage.
      options.get_all_options()
  except (SystemExit, ValueError) as error:
    reason = (usage.getvalue().strip().splitlines() or [str(error)])[-1]
    raise generate_lib.GenerationError(
        f'--beam_pipeline_options={pipeline_options!r} are not valid Beam options ({reason}).'
    ) from None
  gin_config = gin.config_str()
  # Without --runner, Beam's DirectRunner would first try to download its Prism runner; the
  # portable FnApiRunner (which DirectRunner falls back to) runs here as it is, and honours
  # --direct_num_workers / --direct_running_mode.
  runner = (fn_runner.FnApiRunner()
            if options.view_as(beam_options.StandardOptions).runner is None else None)
  logging.info('Beam: %d elements of up to %d tasks on %s; options %s', len(elements),
               per_element, type(runner).__name__ if runner else
               options.view_as(beam_options.StandardOptions).runner,
               options.get_all_options(drop_default=True))
  with beam.Pipeline(runner=runner, options=options) as pipeline:
    _ = (pipeline
         | 'Tasks' >> beam.Create(elements)
         | 'Spread' >> beam.Reshuffle()
         | 'LearnAndWrite' >> beam.ParDo(LearnTasks(plan_args, gin_config, len(todo),
                                                   time.time()))
         | 'CountTasks' >> beam.CombineGlobally(sum)
         | 'WriteMetadata' >> beam.Map(_finalize, plan_args, gin_config))
  if generate_lib.GenerationPlan(**plan_args).finalize():
    return plan.version_dir
  raise generate_lib.GenerationError(
      f'The Beam pipeline finished but {plan.version_dir} still lacks shards; re-run the same '
      'command to generate the missing ones.')
