"""jobctl: a cron replacement with a CLI, a daemon, history and a REST API."""

__version__ = "0.1.0"
