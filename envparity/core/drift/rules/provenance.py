"""What an image's provenance record says against the spec, field by field (docker, kubernetes).

The fingerprint finding says *that* the software differs; these say *what* differs:
`python_packages idna  version  expected 3.9  actual 3.10`.
"""

from __future__ import annotations

from envparity.core.drift.outcome import Outcome
from envparity.core.drift.rules.packages import expect_versions, pins
from envparity.core.model import ResolvedStage
from envparity.core.provenance import Provenance


def compare_provenance(out: Outcome, env: ResolvedStage, found: Provenance, hint: str) -> None:
    """One finding per software field of the spec that the image was not built with."""
    software = env.software
    out.expect("python", "version", software.python, found.python, hint)
    out.expect("cuda", "version", software.cuda, found.cuda, hint)
    out.expect("os", "name", software.os, found.os, hint)
    for key in sorted(software.env.keys() | found.env.keys()):
        out.expect(f"env {key}", "value", software.env.get(key), found.env.get(key), hint)
    built = {name: package.version for name, package in found.packages.items()}
    # A stage's extras are not in the spec's pins: not here.
    expect_versions(
        out, "python_packages", pins(software.python_packages), built, lambda n, v: hint
    )
