"""IRT models, information and ability estimation (numpy and scipy only)."""
