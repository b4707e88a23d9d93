"""Use cases the CLI calls (build, promote, rollback, drift check, run): core plus adapters.

See docs/architecture.md for the layers and what each may import.
"""
