"""The methods an evaluation compares, behind one interface (`method.Method`): the trained
transformers (AD, ED), the source algorithm learning from scratch, and reference policies."""
