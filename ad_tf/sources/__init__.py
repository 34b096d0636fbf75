"""Source RL algorithms whose learning histories Algorithm Distillation learns from."""
