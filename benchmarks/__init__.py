"""Benchmarks of real broker processes; ``make bench`` runs ``python -m benchmarks.run``."""
