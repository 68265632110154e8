"""Candidates, test sessions, responses, results, overrides and the audit trail in the database."""
