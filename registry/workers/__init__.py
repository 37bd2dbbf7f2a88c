"""The background work of a registry process: search sync, webhook delivery, the search log buffer, the
collector's pause metrics, and the locks that keep one process of a machine at a job."""
