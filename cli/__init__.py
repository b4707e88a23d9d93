"""The envparity command line (typer)."""
