"""In-context evaluation speed: agent-steps/s of 100 parallel rollouts at context 200, with the
key/value cache vs recomputing the whole context every step.

Two models with 200 positions, freshly initialised (speed does not depend on the weights): the
CPU default that the pipeline evaluates (feed-forward 256) and the paper's size (feed-forward
2048); both have embedding 64, 4 layers, 4 heads.
Usage: python -m benchmarks.eval_throughput [--runs=100] [--context=200]
Prints one JSON object on its last line.
"""

import time

from absl import app
from absl import flags
import numpy as np

import ad_tf
from benchmarks import figures as figures_lib
from ad_tf.evaluation import in_context
from ad_tf.model import transformer
from ad_tf.train import trainer

flags.DEFINE_integer('runs', 100, 'Parallel rollouts.')
flags.DEFINE_integer('context', 200, 'Context length (steps).')
flags.DEFINE_integer('episodes', 20, 'Episodes per timed rollout (20 steps each).')
FLAGS = flags.FLAGS


def steps_per_second(model, env, tasks, full_recompute: bool) -> float:
  seeds = np.arange(FLAGS.runs)
  args = dict(num_episodes=FLAGS.episodes, context_length=FLAGS.context, policy_seeds=seeds,
              full_recompute=full_recompute)
  in_context.rollout(model, env, tasks, seeds, **{**args, 'num_episodes': 1})  # Trace.
  start = time.perf_counter()
  in_context.rollout(model, env, tasks, seeds, **args)
  return FLAGS.runs * FLAGS.episodes * env.episode_length / (time.perf_counter() - start)


def main(argv):
  del argv
  env = ad_tf.envs.load_batched('darkroom')
  goals = ad_tf.envs.get_family('darkroom').split_tasks('test')
  tasks = ad_tf.envs.stack_tasks('darkroom', [goals[i % len(goals)] for i in range(FLAGS.runs)])
  figures = {'runs': FLAGS.runs, 'context': FLAGS.context}
  for name, feedforward_dim in (('cpu_default_ff256', 256), ('paper_size_ff2048', 2048)):
    model = transformer.AlgorithmDistillationTransformer(
        num_actions=5, episode_length=20, grid_size=9, max_length=FLAGS.context,
        feedforward_dim=feedforward_dim)
    transformer.build_seeded(model, trainer.example_step_inputs('darkroom', 1, FLAGS.context), 0)
    cached = steps_per_second(model, env, tasks, full_recompute=False)
    full = steps_per_second(model, env, tasks, full_recompute=True)
    figures.update({f'{name}_cached_agent_steps_per_s': round(cached),
                    f'{name}_full_recompute_agent_steps_per_s': round(full),
                    f'{name}_speedup': round(cached / full, 2)})
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
