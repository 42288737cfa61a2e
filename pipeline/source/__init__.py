"""What the footage is: the episode folder and its settings, probing, and the one normalising chain."""
