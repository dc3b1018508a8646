"""The job pipeline: storage (SQLite), statuses, and getting jobs in and out (URL, CSV)."""
