"""Internals of :mod:`trustpub.upload` (import from there, not from here)."""
