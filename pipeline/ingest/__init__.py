"""Ingestion: one adapter module per source format, plus detection, normalisation,
canonicalisation and merging. See ``docs/data-model.md``."""
