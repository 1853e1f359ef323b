"""Benchmarks for the Returns Portal (not part of the test suite): `python bench/run.py`."""
