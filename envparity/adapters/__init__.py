"""Adapters: what talks to the outside world (Docker, registries, uv, git, Pulumi, clouds).

See docs/architecture.md for the layers and what each may import.
"""
