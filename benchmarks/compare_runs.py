"""Whether two experiments are the same run: dataset bytes, training losses, evaluation curves.

Determinism check for "the same seed and config give the same dataset and the same model": run
the pipeline twice (or before and after a change) into two root_dirs and compare. Reads
results.json in the current layout (`splits`) and the one before it (top-level `methods`).
Usage: python -m benchmarks.compare_runs --root_dirs=runs/a,runs/b
Prints one JSON object on its last line.
"""

import glob
import hashlib
import json
import os

from absl import app
from absl import flags

from ad_tf import experiment
from benchmarks import figures as figures_lib

flags.DEFINE_list('root_dirs', None, 'Two experiment directories.')
flags.mark_flag_as_required('root_dirs')
FLAGS = flags.FLAGS
_CURVE_KEYS = ('mean', 'std', 'normalised_mean', 'normalised_std', 'num_runs')


def dataset_digest(root_dir: str) -> str:
  """SHA-256 over every shard and metadata file of every dataset, with their paths."""
  digest = hashlib.sha256()
  tfds_dir = experiment.tfds_dir(root_dir)
  for path in sorted(glob.glob(os.path.join(tfds_dir, '**', '*'), recursive=True)):
    if os.path.isfile(path) and (path.endswith('.json') or '.tfrecord' in path):
      digest.update(os.path.relpath(path, tfds_dir).encode())
      with open(path, 'rb') as f:
        digest.update(f.read())
  return digest.hexdigest()


def losses(root_dir: str, dataset_config: str):
  path = os.path.join(experiment.train_dir(root_dir, dataset_config), experiment.METRICS_FILE)
  with open(path) as f:
    return [(r['step'], r['loss'], r['accuracy']) for r in map(json.loads, f)]


def curves(root_dir: str):
  """{split: {method: the curve figures}} from results.json."""
  with open(experiment.results_path(root_dir)) as f:
    results = json.load(f)
  splits = results['splits'] if 'splits' in results else {'test': results}
  return {split: {name: {k: m[k] for k in _CURVE_KEYS}
                  for name, m in section['methods'].items()}
          for split, section in splits.items()}


def main(argv):
  del argv
  if len(FLAGS.root_dirs) != 2:
    raise app.UsageError('--root_dirs takes exactly two directories.')
  a, b = FLAGS.root_dirs
  figures = {'root_dirs': [a, b], 'dataset_bytes_equal': dataset_digest(a) == dataset_digest(b)}
  configs = sorted(os.listdir(os.path.join(a, experiment.TRAIN_DIR)))
  for config in configs:
    figures[f'{config}_loss_records'] = len(losses(a, config))
    figures[f'{config}_losses_equal'] = losses(a, config) == losses(b, config)
  curves_a, curves_b = curves(a), curves(b)
  for split, methods in curves_a.items():
    for name, curve in methods.items():
      figures[f'{split}_{name}_curve_equal'] = curve == curves_b.get(split, {}).get(name)
  figures_lib.report(figures)


if __name__ == '__main__':
  app.run(main)
