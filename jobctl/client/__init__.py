"""The CLI's remote mode: the service interface over the daemon's REST API (httpx lives here only)."""

from jobctl.client.remote import RemoteService

__all__ = ["RemoteService"]
