"""Thin typed adapters that let agents use data and the local models the project trains."""
