"""Drift checking: collectors observe, the engine compares, reporters print."""
