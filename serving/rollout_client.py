r"""Runs an in-context rollout against a served AD policy (TF Serving or serving.server).

  python -m serving.rollout_client --target=localhost:8500 --model_name=ad --env=darkroom \
      --episodes=20 [--protocol=rest --target=localhost:8501] [--task_index=0] [--seed=0]

The client knows only the export's contract (serving/README.md): it asks `get_initial_state`
once, then calls `action` every step with the observation, the previous action and reward and
the `state_*` tensors from the previous reply. It drives the task's tf_agents PyEnvironment and
prints each episode's return.
"""

from absl import app
from absl import flags

import ad_tf  # pylint: disable=unused-import  (quiet TF start-up)
import ad_tf.envs
from serving import predictors

flags.DEFINE_string('target', 'localhost:8500', 'host:port of the gRPC or REST API.')
flags.DEFINE_string('model_name', 'ad', 'Served model name.')
flags.DEFINE_enum('protocol', 'grpc', ['grpc', 'rest'], 'TF Serving API to use.')
flags.DEFINE_string('env', 'darkroom', 'Environment name.')
flags.DEFINE_integer('episodes', 10, 'Episodes to run.')
flags.DEFINE_integer('task_index', 0, 'Which task of the test split.')
flags.DEFINE_integer('seed', 0, 'Environment and action-sampling seed.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  predictor_class = (predictors.GrpcPredictor if FLAGS.protocol == 'grpc'
                     else predictors.RestPredictor)
  predictor = predictor_class(FLAGS.target, FLAGS.model_name)
  task = ad_tf.envs.held_out_tasks(FLAGS.env, FLAGS.task_index + 1, 0)[FLAGS.task_index]
  oracle = ad_tf.envs.oracle_return(FLAGS.env, task)
  print(f'{FLAGS.env} task {({k: v.tolist() for k, v in task.items()})}, oracle {oracle:.2f}')
  returns = predictors.in_context_rollout(predictor, FLAGS.env, task, FLAGS.episodes,
                                          FLAGS.seed, FLAGS.seed)
  for episode, episode_return in enumerate(returns, start=1):
    print(f'episode {episode:3d}: return {episode_return:6.2f} ({episode_return / oracle:.0%} '
          'of oracle)')


if __name__ == '__main__':
  app.run(main)
