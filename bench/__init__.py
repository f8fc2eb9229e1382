"""Benchmarks; see BENCHMARKS.md."""
