"""MULE (SF-NFNet-F0, 1728-d) implemented in PyTorch for soundalike."""
