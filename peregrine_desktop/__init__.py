"""Peregrine Desktop: a job-search companion whose integrations actually work."""

__version__ = "0.1.0"
APP_NAME = "Peregrine"
ORG_NAME = "Peregrine"
