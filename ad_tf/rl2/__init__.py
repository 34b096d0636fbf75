"""RL² (Duan et al., 2016): online meta-RL with an LSTM, the paper's upper-bound baseline."""
