"""Sync of the job pipeline to trackers: the engine, its map of what was pushed, its reports."""
