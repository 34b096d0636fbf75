"""Watermaze frames: a strip of rendered frames (PNG) along a walk, and what storing frames costs.

Writes --output (default docs/watermaze_frames.png): 8 frames of one walk, left to right: at
the centre facing east, then 60, 120, 180 and 240 degrees to the left, then walking 2, 4 and 6
steps towards the wall. Then measures, over a random walk of 50 x 40 frames, the PNG
size of a frame (what a TFDS `Image` feature stores), its raw size, and encode / decode rates,
against rendering the frame from its pose in the input pipeline (`render_tf`).
Usage: python -m benchmarks.watermaze_frames [--output=docs/watermaze_frames.png]
Prints one JSON object on its last line.
"""

import time

from absl import app
from absl import flags
import numpy as np
import tensorflow as tf

from ad_tf.envs import watermaze
from benchmarks import figures as figures_lib

flags.DEFINE_string('output', 'docs/watermaze_frames.png', 'Where to write the frame strip.')
FLAGS = flags.FLAGS

#: The strip's walk: turns on the spot, 60 degrees at a time, then steps towards the wall.
STRIP_ACTIONS = [4] * 8 + [0] * 6
STRIP_STEPS = [0, 2, 4, 6, 8, 10, 12, 14]


def walk_poses(actions):
  poses = [(0.0, 0.0, 0.0)]
  for action in actions:
    poses.append(watermaze.move_np(*poses[-1], action))
  return np.array(poses)


def main(argv):
  del argv
  poses = walk_poses(STRIP_ACTIONS)[STRIP_STEPS]
  frames = watermaze.render_np(poses[:, 0], poses[:, 1], poses[:, 2])
  gap = np.full([watermaze.HEIGHT, 4, 3], 255, np.uint8)
  strip = np.concatenate(sum([[frame, gap] for frame in frames], [])[:-1], axis=1)
  tf.io.write_file(FLAGS.output, tf.io.encode_png(strip))

  rng = np.random.default_rng(0)
  poses = walk_poses(rng.integers(0, 8, 2000))
  frames = watermaze.render_np(poses[:, 0], poses[:, 1], poses[:, 2])
  start = time.perf_counter()
  encoded = [tf.io.encode_png(frame).numpy() for frame in frames]
  encode_rate = len(frames) / (time.perf_counter() - start)
  batch = tf.constant(encoded)
  decode = tf.function(lambda b: tf.map_fn(tf.io.decode_png, b, fn_output_signature=tf.uint8))
  decode(batch[:10])
  start = time.perf_counter()
  decoded = decode(batch).numpy()
  decode_rate = len(frames) / (time.perf_counter() - start)
  np.testing.assert_array_equal(decoded, frames)  # PNG is lossless.
  render = tf.function(watermaze.render_tf)
  x, y, heading = (tf.constant(poses[:, i]) for i in range(3))
  render(x[:10], y[:10], heading[:10])
  start = time.perf_counter()
  render(x, y, heading).numpy()
  render_rate = len(frames) / (time.perf_counter() - start)
  figures_lib.report({
      'strip': FLAGS.output, 'frames': len(frames),
      'png_bytes_per_frame': round(float(np.mean([len(e) for e in encoded]))),
      'raw_bytes_per_frame': int(frames[0].nbytes),
      'pose_bytes_per_frame': 3 * 8,
      'png_encode_frames_per_s': round(encode_rate),
      'png_decode_frames_per_s': round(decode_rate),
      'render_from_pose_frames_per_s': round(render_rate)})


if __name__ == '__main__':
  app.run(main)
