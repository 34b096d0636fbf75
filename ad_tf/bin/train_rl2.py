r"""Trains RL² (online meta-RL: TF-Agents PPO with LSTM networks) on an environment's training
tasks, and saves its policy with tf_agents' PolicySaver.

  python -m ad_tf.bin.train_rl2 --root_dir=runs/rl2 --gin_file=gin/darkroom_rl2_small.gin

Re-running the same command resumes from the last checkpoint (or does nothing once the policy is
saved). Evaluate it beside AD with evaluate.methods including 'RL2' (python -m ad_tf.bin.evaluate
on the same root_dir).
"""

from absl import app

import ad_tf  # pylint: disable=unused-import  (quiet TF start-up, TFDS registration)
from ad_tf.bin import binary_utils
from ad_tf.rl2 import training


def main(argv):
  del argv
  binary_utils.run_configured(training.train_rl2)


if __name__ == '__main__':
  app.run(main)
