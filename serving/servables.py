"""The loaded versions of every served model, kept in step with their base paths.

Like TF Serving's file-system source, the manager polls each model's base path (every
`poll_wait_seconds`): a new integer version directory is loaded, and one its version policy no
longer wants is unloaded, without a restart. A version directory counts only once it holds a
complete SavedModel (saved_model.pb and the variables index); one that fails to load is retried
at the next poll, never served. Requests hold the runner they started with, so a request in
flight finishes on its version even if a reload removes it meanwhile.
"""

import threading
from typing import Dict, List, Optional

from absl import logging
import tensorflow as tf
from tensorflow_serving.config import model_server_config_pb2

from serving import model_config
from serving import saved_model_runner


class NotFoundError(LookupError):
  """No such model or version is being served (NOT_FOUND, HTTP 404)."""


def complete_versions(base_path: str) -> List[int]:
  """The integer version directories under `base_path` that hold a complete SavedModel."""
  if not tf.io.gfile.isdir(base_path):
    return []
  versions = []
  for name in tf.io.gfile.listdir(base_path):
    name = name.strip('/')
    directory = f'{base_path.rstrip("/")}/{name}'
    if name.isdigit() and tf.io.gfile.exists(f'{directory}/saved_model.pb') and (
        tf.io.gfile.exists(f'{directory}/variables/variables.index')):
      versions.append(int(name))
  return sorted(versions)


class ServableManager:
  """Loaded versions per model name, reloaded from the base paths in the background."""

  def __init__(self, config: model_server_config_pb2.ModelServerConfig,
               poll_wait_seconds: float = 1.0,
               options: saved_model_runner.LoadOptions = saved_model_runner.LoadOptions()):
    model_config.check(config)
    self._options = options
    self._models = {model.name: model for model in config.model_config_list.config}
    self._loaded: Dict[str, Dict[int, saved_model_runner.SavedModelRunner]] = {
        name: {} for name in self._models}
    self._lock = threading.Lock()
    self._stop = threading.Event()
    self.poll()
    self._thread = None
    if poll_wait_seconds > 0:
      self._thread = threading.Thread(target=self._poll_loop, args=(poll_wait_seconds,),
                                      daemon=True, name='servable-poller')
      self._thread.start()

  @property
  def model_names(self) -> List[str]:
    return list(self._models)

  def poll(self) -> None:
    """Loads the wanted versions not loaded yet; unloads the ones no longer wanted."""
    for name, model in self._models.items():
      wanted = model_config.wanted_versions(model, complete_versions(model.base_path))
      current = dict(self._loaded[name])
      for version in wanted:
        if version not in current:
          path = f'{model.base_path.rstrip("/")}/{version}'
          try:
            current[version] = saved_model_runner.SavedModelRunner(path, version,
                                                                   self._options)
          except Exception as error:  # pylint: disable=broad-except
            logging.warning('Model %s version %d at %s did not load (%s); retrying at the '
                            'next poll.', name, version, path, error)
            continue
          logging.info('Model %s: version %d loaded from %s.', name, version, path)
      unloaded = [current.pop(version) for version in sorted(set(current) - set(wanted))]
      with self._lock:
        self._loaded[name] = current
      for runner in unloaded:  # No new request gets it now; queued ones are answered.
        runner.close()
        logging.info('Model %s: version %d unloaded.', name, runner.version)

  def _poll_loop(self, wait: float) -> None:
    while not self._stop.wait(wait):
      try:
        self.poll()
      except Exception as error:  # pylint: disable=broad-except
        logging.warning('Polling the model base paths failed (%s); retrying.', error)

  def stop(self) -> None:
    self._stop.set()
    if self._thread is not None:
      self._thread.join()

  def get(self, name: str, version: Optional[int] = None) -> saved_model_runner.SavedModelRunner:
    """The runner of `version` of model `name` (its latest loaded one by default)."""
    with self._lock:
      if name not in self._loaded:
        raise NotFoundError(f'Servable not found for request: model {name!r} is not served '
                            f'(served models: {self.model_names}).')
      versions = self._loaded[name]
      if version is None:
        if not versions:
          raise NotFoundError(f'Servable not found for request: model {name!r} has no loaded '
                              f'version yet (base path {self._models[name].base_path}).')
        return versions[max(versions)]
      if version not in versions:
        raise NotFoundError(f'Servable not found for request: version {version} of model '
                            f'{name!r} is not loaded (loaded: {sorted(versions)}).')
      return versions[version]

  def versions(self, name: str) -> List[int]:
    with self._lock:
      if name not in self._loaded:
        raise NotFoundError(f'Servable not found for request: model {name!r} is not served '
                            f'(served models: {self.model_names}).')
      return sorted(self._loaded[name])
