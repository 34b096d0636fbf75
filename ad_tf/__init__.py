"""ad_tf: Algorithm Distillation on the TensorFlow stack."""

import os
import warnings

# Start-up noise only: TF's C++ INFO/WARNING log lines, and a Gym notice printed when tf_agents
# imports gym (which ad_tf never uses). Python warnings and errors are left alone.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
try:
  import gym_notices.notices  # pylint: disable=g-import-not-at-top
  gym_notices.notices.notices.clear()
except ImportError:
  pass
# Autograph re-parses tf_agents code that compares with `is ()`; Python flags it on every trace.
warnings.filterwarnings('ignore', message='"is( not)?" with a literal', category=SyntaxWarning)

# Registers the `ad_histories` TFDS builder, so `tfds.load('ad_histories/<env>')` works.
import ad_tf_datasets.ad_histories  # pylint: disable=g-import-not-at-top,unused-import,wrong-import-position
