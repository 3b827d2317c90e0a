"""Hugging Face model backends and the dev_metric fitness."""
