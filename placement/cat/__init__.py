"""Adaptive selection, exposure control, content balancing and stopping (numpy and scipy only)."""
