"""itembank package."""
