"""Step 1 of Algorithm Distillation: source agents write the `ad_histories` dataset."""
