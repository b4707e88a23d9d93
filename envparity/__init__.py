"""envparity: one environment spec, rendered to images and stacks, checked for drift."""

__version__ = "0.1.0"
