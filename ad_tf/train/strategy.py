"""Distribution strategies by name, in the pattern of tf_agents' `strategy_utils`."""

import tensorflow as tf

STRATEGIES = ('default', 'mirrored', 'multi_worker', 'tpu')


def get_strategy(name: str, tpu_address: str = '') -> tf.distribute.Strategy:
  """'default' (one device), 'mirrored' (all local devices), 'multi_worker' (TF_CONFIG) or 'tpu'."""
  if name == 'default':
    return tf.distribute.get_strategy()
  if name == 'mirrored':
    return tf.distribute.MirroredStrategy()
  if name == 'multi_worker':
    return tf.distribute.MultiWorkerMirroredStrategy()
  if name == 'tpu':
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)
  raise ValueError(f'Unknown --strategy={name!r}; choose one of {STRATEGIES}.')


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Whether this process writes the real checkpoints and summaries."""
  resolver = getattr(strategy, 'cluster_resolver', None)
  if resolver is None or not resolver.cluster_spec().as_dict():
    return True
  return resolver.task_type in ('chief', None) or (
      resolver.task_type == 'worker' and resolver.task_id == 0
      and 'chief' not in resolver.cluster_spec().as_dict())


def task_index(strategy: tf.distribute.Strategy) -> int:
  resolver = getattr(strategy, 'cluster_resolver', None)
  return int(resolver.task_id or 0) if resolver is not None else 0
