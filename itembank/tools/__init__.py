"""Tools that make the bank's media: speech synthesis (synth) and pictures (pictures)."""
