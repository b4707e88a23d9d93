"""`envparity sign`: sign a stage's recorded image and attest its provenance with cosign."""

from __future__ import annotations

from pathlib import Path

import typer
from envparity.cli.common import console, print_json


def sign(
    spec: Path = typer.Argument(
        ..., help="A spec file, e.g. envspecs/train.yaml.", show_default=False
    ),
    stage: str = typer.Option(..., "--stage", "-s", help="The stage.", show_default=False),
    key: str = typer.Option(
        None,
        "--key",
        metavar="KEY",
        help="cosign's private key file or KMS URI (default: the stage's KMS cosignKey; "
        "keyless when the stage names a cosignIdentity).",
    ),
    digest: str = typer.Option(
        None,
        "--digest",
        metavar="DIGEST",
        help="Sign this sha256:... of the stage's image history instead of the recorded one.",
    ),
    stacks: Path = typer.Option(
        Path("stacks"), "--stacks", metavar="DIR", help="Where the stack configs are."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print what was signed as JSON."),
) -> None:
    """Sign the image recorded for the stage by digest with cosign and attach its provenance record as a signed SLSA attestation whose subject is that digest.

    Needs cosign (ENVPARITY_COSIGN or on PATH); a key file's password comes from COSIGN_PASSWORD. When the stage's trust policy is on, the new signature is verified with it. Exit 0 signed; 1 refused or failed (no recorded image, no key, cosign error).
    """  # noqa: E501 -- typer keeps a docstring's line breaks, so each paragraph is one line
    import sys

    from envparity.cli.common import load_or_exit

    from envparity.flows.sign import sign_spec

    [loaded] = load_or_exit([spec])
    signed = sign_spec(loaded, stage, stacks, key, digest)
    if json_out:
        print_json(
            {"image": signed.image, "verified": str(signed.verified) if signed.verified else None}
        )
        return
    sys.stdout.write(f"{signed.image}\n")
    err = console(stderr=True)
    err.print(f"signed and attested {signed.image}", markup=False, soft_wrap=True)
    if signed.verified is not None:
        err.print(f"verified with {signed.verified}", markup=False, soft_wrap=True)
