"""serving.batching: concurrent requests share batches, each gets its own rows, errors reach all."""

import concurrent.futures
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from serving import batching
from tests.tiny_runs import REPO


def slow_double(calls):
  def run(inputs):
    calls.append(len(inputs['x']))
    time.sleep(0.02)  # Long enough for the other requests to queue behind a running batch.
    return {'y': inputs['x'] * 2, 'row_sum': inputs['x'].sum(axis=1)}
  return run


def test_concurrent_requests_are_batched_and_each_gets_its_own_rows():
  calls = []
  batcher = batching.Batcher(slow_double(calls), batching.BatchingParameters(max_batch_size=8))
  requests = [np.full([1 + i % 2, 3], i, np.float32) for i in range(12)]
  try:
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
      replies = list(pool.map(lambda x: batcher({'x': x}), requests))
  finally:
    batcher.close()
  for x, reply in zip(requests, replies):
    np.testing.assert_array_equal(reply['y'], x * 2)
    np.testing.assert_array_equal(reply['row_sum'], x.sum(axis=1))
  assert sum(calls) == sum(len(x) for x in requests)
  assert max(calls) > 2 and max(calls) <= 8  # Shared batches, never above max_batch_size.
  assert len(calls) < len(requests)


def test_a_failing_batch_fails_each_of_its_requests_and_the_batcher_goes_on():
  fail = threading.Event()

  def run(inputs):
    if fail.is_set():
      raise ValueError('bad batch')
    return {'y': inputs['x'] + 1}

  batcher = batching.Batcher(run, batching.BatchingParameters())
  try:
    fail.set()
    with pytest.raises(ValueError, match='bad batch'):
      batcher({'x': np.zeros([1])})
    fail.clear()
    np.testing.assert_array_equal(batcher({'x': np.zeros([2])})['y'], [1, 1])
  finally:
    batcher.close()


def test_after_close_a_late_request_runs_unbatched():
  batcher = batching.Batcher(lambda inputs: {'y': inputs['x']}, batching.BatchingParameters())
  batcher.close()
  np.testing.assert_array_equal(batcher({'x': np.ones([3])})['y'], np.ones([3]))


def test_parameters_in_tf_serving_text_format():
  parameters = batching.parse("""
      max_batch_size { value: 16 }   # rows
      batch_timeout_micros { value: 250 }
      num_batch_threads { value: 2 }""")
  assert parameters == batching.BatchingParameters(16, 250, 2, 100)


@pytest.mark.parametrize('text, message', [
    ('max_batch_size { value: 0 }', 'max_batch_size must be >= 1'),
    ('pad_variable_length_inputs { value: 1 }', "unknown field 'pad_variable_length_inputs'"),
    ('max_batch_size: 16', 'cannot parse'),
])
def test_bad_parameters_name_what_is_wrong(text, message):
  with pytest.raises(batching.BatchingConfigError, match=message):
    batching.parse(text, 'b.config')


def test_the_shipped_batching_config_parses():
  assert batching.read(os.path.join(REPO, 'serving', 'batching.config')).max_batch_size == 32


def test_server_binary_reports_a_bad_batching_file_in_one_line(tmp_path):
  bad = tmp_path / 'batching.config'
  bad.write_text('max_batch_size { value: 8 }\nallowed_batch_sizes: 4\n')
  result = subprocess.run([sys.executable, '-m', 'serving.server', f'--model_base_path={tmp_path}',
                           '--enable_batching', f'--batching_parameters_file={bad}'],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
  assert result.returncode != 0
  assert result.stderr.strip().splitlines()[-1].startswith(f'error: {bad}: cannot parse')
  assert 'Traceback' not in result.stderr
