"""Batch runs that produce verified datasets: specs, executors, Parquet writers, manifests."""
