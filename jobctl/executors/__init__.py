"""Running work: child processes for ``command`` and ``python`` task functions, Celery for ``celery_task``."""
