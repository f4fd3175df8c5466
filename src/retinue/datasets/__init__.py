"""Loaders for the data sets under the data root, with clear errors on bad files."""
