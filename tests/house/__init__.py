"""Checks of the house rules."""
