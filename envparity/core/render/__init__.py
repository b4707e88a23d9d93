"""The generators: Dockerfile, lock slices, devcontainer, stack configs, drift workflow."""

from envparity.core.diagnostics import UserError


class RenderError(UserError):
    """A spec value the generators cannot express safely or do not know; one line plus a hint."""
