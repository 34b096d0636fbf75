"""`ad_histories`: learning histories of source RL agents as RLDS episodes."""

from ad_tf_datasets.ad_histories.ad_histories import AdHistories
from ad_tf_datasets.ad_histories.ad_histories import dataset_config
