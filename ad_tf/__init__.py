"""ad_tf: Algorithm Distillation on the TensorFlow stack."""

import os

# Start-up noise only: TF's C++ INFO/WARNING log lines, and a Gym notice printed when tf_agents
# imports gym (which ad_tf never uses). Python warnings and errors are left alone.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
try:
  import gym_notices.notices  # pylint: disable=g-import-not-at-top
  gym_notices.notices.notices.clear()
except ImportError:
  pass
