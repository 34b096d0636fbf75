"""Imports every module with gin configurables, so one gin file can configure all the binaries."""

# pylint: disable=unused-import
from ad_tf.data import history_windows
from ad_tf.evaluation import evaluate
from ad_tf.export import export
from ad_tf.generation import generate
from ad_tf import pipeline
from ad_tf.model import transformer
from ad_tf.rl2 import agent as rl2_agent
from ad_tf.rl2 import training as rl2_training
from ad_tf.sources import dqn
from ad_tf.sources import ppo
from ad_tf.sources import ucb
from ad_tf.train import trainer
