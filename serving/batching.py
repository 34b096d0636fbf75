"""Server-side batching of concurrent requests, as tensorflow_model_server's --enable_batching.

Requests to a batchable signature (every input and output has a leading batch dimension, as the
AD policy's `action` has) wait in a queue; a batch thread takes the first waiting request, adds
whatever else arrives within `batch_timeout_micros` up to `max_batch_size` rows, runs them as one
call and hands each request its own rows back. The AD policy's rows are independent
(export/in_context_policy.py), so a row's outputs do not depend on which rows share its batch.
A step of a small model is dominated by per-op overhead, not rows: 16 rows cost little more than
one.

The parameters are TF Serving's BatchingParameters, read from the same text file
(--batching_parameters_file), e.g.

  max_batch_size { value: 32 }
  batch_timeout_micros { value: 0 }
  num_batch_threads { value: 1 }
  max_enqueued_batches { value: 100 }
"""

import concurrent.futures
import dataclasses
import queue
import re
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

Arrays = Dict[str, np.ndarray]


class BatchingConfigError(ValueError):
  """A batching parameters file that cannot be used."""


class QueueFullError(RuntimeError):
  """More requests wait than max_enqueued_batches allows (UNAVAILABLE: retry later)."""


@dataclasses.dataclass(frozen=True)
class BatchingParameters:
  max_batch_size: int = 32
  batch_timeout_micros: int = 0
  num_batch_threads: int = 1
  max_enqueued_batches: int = 100


_FIELD = re.compile(r'(\w+)\s*\{\s*value\s*:\s*(-?\d+)\s*\}')


def parse(text: str, where: str = 'batching parameters') -> BatchingParameters:
  """BatchingParameters from TF Serving's text format (the fields above; others are errors)."""
  known = {f.name for f in dataclasses.fields(BatchingParameters)}
  values, rest = {}, _FIELD.sub('', re.sub(r'#.*', '', text)).strip()
  if rest:
    raise BatchingConfigError(f'{where}: cannot parse {rest[:60]!r}; write fields as '
                              '"max_batch_size { value: 32 }".')
  for name, value in _FIELD.findall(text):
    if name not in known:
      raise BatchingConfigError(f'{where}: unknown field {name!r}; this server supports '
                                f'{sorted(known)}.')
    values[name] = int(value)
  parameters = BatchingParameters(**values)
  for name in ('max_batch_size', 'num_batch_threads', 'max_enqueued_batches'):
    if getattr(parameters, name) < 1:
      raise BatchingConfigError(f'{where}: {name} must be >= 1; got {getattr(parameters, name)}.')
  if parameters.batch_timeout_micros < 0:
    raise BatchingConfigError(f'{where}: batch_timeout_micros must be >= 0.')
  return parameters


def read(path: str) -> BatchingParameters:
  try:
    with open(path) as f:
      return parse(f.read(), path)
  except OSError as error:
    raise BatchingConfigError(f'Cannot read the batching parameters file {path}: {error}.') \
        from None


@dataclasses.dataclass
class _Request:
  inputs: Arrays
  rows: int
  future: concurrent.futures.Future


class Batcher:
  """Runs `run` on batches of concurrent requests; call it as `run` itself."""

  def __init__(self, run: Callable[[Arrays], Arrays], parameters: BatchingParameters,
               name: str = 'batcher'):
    self._run = run
    self._parameters = parameters
    self._queue: 'queue.Queue[_Request]' = queue.Queue()
    self._closed = threading.Event()
    self._threads = [threading.Thread(target=self._loop, daemon=True, name=f'{name}-{i}')
                     for i in range(parameters.num_batch_threads)]
    for thread in self._threads:
      thread.start()

  def __call__(self, inputs: Arrays) -> Arrays:
    if self._closed.is_set():  # An unloaded version finishing a request that started on it.
      return self._run(inputs)
    limit = self._parameters.max_enqueued_batches * self._parameters.max_batch_size
    if self._queue.qsize() >= limit:
      raise QueueFullError(f'{self._queue.qsize()} requests are waiting to be batched '
                           f'(max_enqueued_batches x max_batch_size = {limit}); retry later.')
    request = _Request(inputs, len(next(iter(inputs.values()))), concurrent.futures.Future())
    self._queue.put(request)
    return request.future.result()

  def close(self) -> None:
    """Stops the batch threads once the requests already queued are answered."""
    self._closed.set()
    for thread in self._threads:
      thread.join()

  def _take_batch(self, first: _Request) -> Tuple[List[_Request], Optional[_Request]]:
    """`first` and what joins it: the batch, and a request that did not fit (or None)."""
    batch, rows = [first], first.rows
    deadline = time.monotonic() + self._parameters.batch_timeout_micros / 1e6
    while rows < self._parameters.max_batch_size:
      remaining = deadline - time.monotonic()
      try:
        request = (self._queue.get(timeout=remaining) if remaining > 0 else
                   self._queue.get_nowait())
      except queue.Empty:
        break
      if rows + request.rows > self._parameters.max_batch_size:
        return batch, request  # It starts the next batch.
      batch.append(request)
      rows += request.rows
    return batch, None

  def _loop(self) -> None:
    carried = None
    while True:
      first = carried
      if first is None:
        try:
          first = self._queue.get(timeout=0.2)
        except queue.Empty:
          if self._closed.is_set():
            return
          continue
      batch, carried = self._take_batch(first)
      self._answer(batch)

  def _answer(self, batch: List[_Request]) -> None:
    try:
      if len(batch) == 1:
        batch[0].future.set_result(self._run(batch[0].inputs))
        return
      outputs = self._run({key: np.concatenate([r.inputs[key] for r in batch])
                           for key in batch[0].inputs})
      offsets = np.cumsum([r.rows for r in batch])[:-1]
      parts = {key: np.split(value, offsets) for key, value in outputs.items()}
      for i, request in enumerate(batch):
        request.future.set_result({key: value[i] for key, value in parts.items()})
    except Exception as error:  # pylint: disable=broad-except  (each caller gets it)
      for request in batch:
        if not request.future.done():
          request.future.set_exception(error)
