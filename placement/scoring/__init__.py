"""Scoring of answers: choices, typed text and transcripts, with the item's rubric."""
