"""Shared test set-up: quiet TF start-up, a clean gin config around every test."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import gin  # pylint: disable=g-import-not-at-top,wrong-import-position
import pytest  # pylint: disable=g-import-not-at-top,wrong-import-position


@pytest.fixture(autouse=True)
def clear_gin_config():
  gin.clear_config()
  yield
  gin.clear_config()
