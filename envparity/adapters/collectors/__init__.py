"""Collectors: one per target, turning a live system into observed facts."""
