"""The training input pipeline: across-episode windows of `ad_histories`."""
