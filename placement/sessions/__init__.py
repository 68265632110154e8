"""Candidates, test sessions, responses, results, overrides and the audit trail in the database.

Modules (each operation takes a SQLAlchemy ``Session``, writes its audit event, flushes and
never commits; errors are the French domain errors of :mod:`placement.sessions.errors`):

- ``models`` — the SQLAlchemy 2 models; ``db`` — engines, sessions, ``upgrade(url)`` (Alembic);
- ``operations`` — candidates, starting/abandoning/resuming sessions, overrides with a reason,
  ``effective_result`` (the machine's result with the auditeur's level and decision overrides);
- ``users`` — accounts, Argon2 passwords, login throttling; ``audit`` — the audit trail;
- ``attestations`` — the French PDF and its verification code; ``exports`` — the day's CSV,
  the pseudonymous responses CSV, a candidate's ZIP; ``retention`` — erasure and purge;
- ``testflow``, ``results``, ``jobs``, ``bankcache`` — the candidate's test itself: the tablet's
  operations, results from stored responses, the transcription job, the cached bank releases.
"""
