"""Benchmarks: scripts that print figures (p50/p95, throughput, peak memory, ratios)."""
