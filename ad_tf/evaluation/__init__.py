"""Step 3 of Algorithm Distillation: in-context evaluation of the frozen model on held-out tasks."""
