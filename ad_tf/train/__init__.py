"""Step 2 of Algorithm Distillation: train the transformer on `ad_histories` under tf.distribute."""
