"""The ``jobctl`` command line: a thin skin over the service layer."""
