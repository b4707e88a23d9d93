"""Generators: Dockerfile, lock file, devcontainer, stack config, workflow."""
