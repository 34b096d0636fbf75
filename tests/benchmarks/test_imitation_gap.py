"""benchmarks.imitation_gap: the windows that end with each kept episode, and on a tiny trained
model a cross-entropy that never falls below the source's entropy (Gibbs' inequality)."""

from benchmarks import imitation_gap
from tests.tiny_runs import benchmark_figures


def test_each_window_ends_with_its_episode():
  # Episodes of 20 steps, a context of 40: episode 0 is scored in the first 40 steps, from then
  # on each window ends with its episode, which fills its last 20 steps.
  assert imitation_gap.episode_windows(4, 20, 40) == [(0, 0), (0, 20), (20, 20), (40, 20)]
  assert imitation_gap.episode_windows(2, 50, 200) == [(0, 0), (0, 50)]


def test_the_gap_is_per_kept_episode_and_never_negative(tiny_export_root):
  figures = benchmark_figures('imitation_gap', f'--root_dir={tiny_export_root}',
                              '--histories=3', '--batch_size=4')
  kept = figures['kept_episodes']
  assert figures['histories'] == 3 and kept >= 2
  for name in ('cross_entropy', 'source_entropy', 'gap', 'agreement'):
    assert len(figures[f'{name}_by_kept_episode']) == kept
  assert all(gap >= -1e-3 for gap in figures['gap_by_kept_episode'])
  assert all(0.0 <= a <= 1.0 for a in figures['agreement_by_kept_episode'])
  assert abs(figures['mean_cross_entropy'] - figures['mean_source_entropy']
             - figures['mean_gap']) <= 2e-3
