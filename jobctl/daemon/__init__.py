"""``jobctl daemon``: the store, the scheduler loop, the runs and the REST API in one process."""
