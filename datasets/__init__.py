"""TFDS dataset builders of ad_tf (installed as the package `ad_tf_datasets`)."""
