"""Benchmarks: `make bench`. Each prints its figures against a raw-temporalio baseline run in the same process."""
