"""The AD causal transformer (keras_nlp decoder blocks)."""
