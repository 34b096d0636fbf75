"""The paper's environments: Dark Room, Dark Room Hard, Key-to-Door and the adversarial bandit."""

from ad_tf.envs.registry import ENV_NAMES
from ad_tf.envs.registry import get_family
from ad_tf.envs.registry import get_spec
from ad_tf.envs.registry import held_out_tasks
from ad_tf.envs.registry import keep_sample
from ad_tf.envs.registry import load
from ad_tf.envs.registry import load_batched
from ad_tf.envs.registry import oracle_return
from ad_tf.envs.registry import sample_tasks
from ad_tf.envs.registry import stack_tasks
