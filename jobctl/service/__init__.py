"""The service layer: the scheduler API's operations, shared by the REST API and the local CLI."""

from jobctl.service.jobs import Service

__all__ = ["Service"]
