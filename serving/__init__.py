"""Serving the exported AD policy: a PredictionService server for local use, and rollout clients."""
