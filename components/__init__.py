"""Pulumi ComponentResources for envparity environments."""
