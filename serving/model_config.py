"""Which models to serve: TF Serving's own `ModelServerConfig` (text format), read or built.

The same file runs unchanged with `tensorflow_model_server --model_config_file=...`: a
`model_config_list` of `config { name, base_path, model_platform, model_version_policy }`, the
policy `latest { num_versions }` (the default, 1), `all {}` or `specific { versions: ... }`.
"""

from google.protobuf import text_format
import tensorflow as tf
from tensorflow_serving.config import model_server_config_pb2


class ConfigError(ValueError):
  """A models.config that cannot be served; the message names the file and the problem."""


def read(path: str) -> model_server_config_pb2.ModelServerConfig:
  """Parses `path` (ModelServerConfig in text format) and checks what serving needs."""
  try:
    with tf.io.gfile.GFile(path) as f:
      config = text_format.Parse(f.read(), model_server_config_pb2.ModelServerConfig())
  except (OSError, tf.errors.NotFoundError) as error:
    raise ConfigError(f'Cannot read the model config {path}: {error}.') from None
  except text_format.ParseError as error:
    raise ConfigError(f'{path} is not a ModelServerConfig in text format: {error}.') from None
  check(config, path)
  return config


def single(name: str, base_path: str) -> model_server_config_pb2.ModelServerConfig:
  """One model, its latest version: what --model_name/--model_base_path mean."""
  config = model_server_config_pb2.ModelServerConfig()
  model = config.model_config_list.config.add()
  model.name, model.base_path, model.model_platform = name, base_path, 'tensorflow'
  return config


def check(config: model_server_config_pb2.ModelServerConfig, where: str = 'the config') -> None:
  models = config.model_config_list.config
  if not models:
    raise ConfigError(f'{where} lists no model (model_config_list {{ config {{ ... }} }}).')
  names = [model.name for model in models]
  for model in models:
    if not model.name or not model.base_path:
      raise ConfigError(f'{where}: every config needs a name and a base_path; got {model}.')
    if model.model_platform not in ('', 'tensorflow'):
      raise ConfigError(f'{where}: model {model.name!r} has model_platform '
                        f'{model.model_platform!r}; only "tensorflow" is served.')
  duplicates = sorted({name for name in names if names.count(name) > 1})
  if duplicates:
    raise ConfigError(f'{where} names models {duplicates} more than once.')


def wanted_versions(model: model_server_config_pb2.ModelConfig, available):
  """The versions `model`'s version policy serves out of `available` (sorted integers)."""
  policy = model.model_version_policy
  which = policy.WhichOneof('policy_choice')
  if which == 'all':
    return sorted(available)
  if which == 'specific':
    return sorted(set(available) & set(policy.specific.versions))
  count = policy.latest.num_versions if which == 'latest' and policy.latest.num_versions else 1
  return sorted(available)[-count:]
