"""The model registry and the inference side of every model the project trains: `training/` writes
model folders, this package loads them (and never imports `training`)."""
