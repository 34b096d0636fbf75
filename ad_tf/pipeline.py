"""The whole of Algorithm Distillation as resumable stages on one root_dir.

generate (learning histories, and the expert episodes ED trains on, from the same source runs)
-> train AD -> train ED [-> train RL², with `rl2=True`] -> evaluate (AD, ED, RL², source) ->
export (AD and ED, each its own served model). Each stage resumes where it
stopped, and a finished stage costs nothing on a re-run; stage wall times go to
root_dir/pipeline_times.json.
"""

import json
import os
import time
from typing import Callable, Dict

from absl import logging
import gin

from ad_tf import experiment
from ad_tf.evaluation import evaluate
from ad_tf.export import export
from ad_tf.generation import generate
from ad_tf.rl2 import training as rl2_training
from ad_tf.train import trainer


@gin.configurable
def pipeline(root_dir: str, strategy=None,
             # Environment
             env_name: str = 'darkroom',
             # ED baseline
             expert_episodes: int = 10,
             ed_num_steps: int = 1500,
             # RL² baseline (online meta-RL; train_rl2's bindings configure it)
             rl2: bool = False,
             # Export
             export_model: bool = True) -> Dict[str, float]:
  """Runs every stage; returns the wall time of each stage run now, in seconds."""
  times_path = experiment.pipeline_times_path(root_dir)
  times = {}
  if os.path.exists(times_path):
    with open(times_path) as f:
      times = json.load(f)

  def stage(name: str, run: Callable[[], object]) -> None:
    logging.info('=== pipeline stage: %s', name)
    start = time.time()
    run()
    elapsed = time.time() - start
    times[name] = times.get(name, 0.0) + elapsed  # Summed over resumptions.
    os.makedirs(root_dir, exist_ok=True)
    with open(times_path, 'w') as f:
      json.dump(times, f, indent=1)

  stage('generate', lambda: generate.generate(root_dir, env_name=env_name, with_expert=True,
                                              expert_episodes=expert_episodes))
  stage('train_ad', lambda: trainer.train(root_dir, strategy, env_name=env_name,
                                          dataset_config=env_name))
  stage('train_ed', lambda: trainer.train(root_dir, strategy, env_name=env_name,
                                          dataset_config=f'{env_name}_expert',
                                          num_steps=ed_num_steps))
  if rl2:
    stage('train_rl2', lambda: rl2_training.train_rl2(root_dir, env_name=env_name))
  stage('evaluate', lambda: evaluate.evaluate(root_dir, env_name=env_name))
  if export_model:
    def export_both():  # AD and ED, each to its own base path (export/ad, export/ed).
      export.export(root_dir, env_name=env_name)
      export.export(root_dir, env_name=env_name, dataset_config=f'{env_name}_expert')
    stage('export', export_both)
  return times
