"""Where a build puts things: the paths the Dockerfile, the build context, the lock format and
the image checks must agree on, written once (docs/architecture.md, "One owner per format")."""

VENV = "/opt/venv"  # the image's virtual environment
LOCK = "requirements.lock"  # the shared lock in the build context; its layers are slices of it
WHEELHOUSE = "wheelhouse"  # wheels of lock `requirements.<id>.lock` are in wheelhouse/<id>/
