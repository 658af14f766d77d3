"""The FastAPI service for kernel optimisation jobs: app, job store, workers."""
