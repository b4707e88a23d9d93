"""The cosign CLI (https://github.com/sigstore/cosign), run as a bounded, timed process.

envparity signs an image's digest and attaches its provenance statement as a signed in-toto
attestation with cosign itself, so what it writes is what `cosign verify`,
`cosign verify-attestation`, the sigstore policy-controller and Kyverno read
(docs/promotion.md, "Signing and verification"). Signatures and attestations are stored in
the image's repository under cosign's `sha256-<digest>.sig` / `.att` tags, the format every
registry holds and `cosign copy` carries to another repository.

Key pairs (a file or a KMS URI) sign and verify without the transparency log; with no key,
signing and verification are keyless (Fulcio certificate, Rekor entry).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from base64 import b64decode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envparity.core.diagnostics import UserError
from envparity.core.signature import ATTESTATION_TYPE

ENV = "ENVPARITY_COSIGN"
INSTALL = (
    "install cosign v2.4 or newer (https://docs.sigstore.dev/cosign/system_config/installation/, "
    "or `go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3`) and put it on PATH, "
    f"or set {ENV} to its path"
)
LOOPBACK = ("127.", "localhost", "[::1]")
OUTPUT_LIMIT = 4 * 1024 * 1024  # a verify answer is a few KiB per signature
# What cosign says when it looked and found no valid signature: a definite "not signed".
REJECTED = ("no signatures found", "no matching signatures", "no matching attestations")
CHECK_HINT = "check the registry and the key (docs/promotion.md, 'Signing and verification')"


class CosignError(UserError):
    """cosign could not do what was asked (missing, timed out, refused): one line and a hint."""


class CosignMissing(CosignError):
    """No cosign binary."""


@dataclass(frozen=True)
class Verifier:
    """What a signature must verify against: a public key (file or KMS URI), else a keyless
    identity (certificate subject and OIDC issuer)."""

    key: str = ""
    identity: str = ""
    issuer: str = ""

    def args(self) -> list[str]:
        if self.key:
            # Key pairs are signed without the transparency log (see sign_args).
            return ["--key", self.key, "--insecure-ignore-tlog=true"]
        return ["--certificate-identity", self.identity, "--certificate-oidc-issuer", self.issuer]


def binary() -> str:
    """The cosign to run: $ENVPARITY_COSIGN, else `cosign` on PATH; CosignMissing otherwise."""
    configured = os.environ.get(ENV)
    if configured:
        if not Path(configured).is_file():
            raise CosignMissing(f"{ENV}={configured}: no such file", INSTALL)
        return configured
    found = shutil.which("cosign")
    if found is None:
        raise CosignMissing(
            "signing and verifying images needs cosign, which is not on PATH", INSTALL
        )
    return found


def sign(image: str, key: str | None, predicate: Mapping[str, Any], timeout: float = 300) -> None:
    """Sign `image` (`repository@sha256:...`) and attach `predicate` as its signed SLSA
    provenance attestation. `key`: a private key file or KMS URI; None signs keyless."""
    flags = _sign_args(image, key)
    with tempfile.TemporaryDirectory(prefix="envparity-cosign-") as tmp:
        path = Path(tmp, "predicate.json")
        path.write_text(json.dumps(predicate, sort_keys=True), encoding="utf-8")
        _run(["sign", *flags, image], f"signing {image}", timeout)
        _run(
            ["attest", "--predicate", str(path), "--type", ATTESTATION_TYPE, *flags, image],
            f"attesting {image}",
            timeout,
        )


@dataclass(frozen=True)
class Verified:
    """cosign's answer: the statements of the verified attestations, or why none verified."""

    statements: tuple[dict[str, Any], ...] = ()
    rejected: str | None = None  # cosign's reason, e.g. "no signatures found"


def verify(image: str, verifier: Verifier, timeout: float = 60) -> Verified:
    """Verify `image`'s signature, then its provenance attestation, as `cosign verify` and
    `cosign verify-attestation` do; CosignError when cosign could not check (missing,
    registry unreachable, timed out)."""
    deadline = time.monotonic() + timeout
    common = [*verifier.args(), *_registry_args(image), image]
    out = ""
    for command in (["verify"], ["verify-attestation", "--type", ATTESTATION_TYPE]):
        code, out, said = _call([*command, *common], max(1.0, deadline - time.monotonic()))
        if code and any(marker in said for marker in REJECTED):
            return Verified(rejected=said)
        if code:
            raise CosignError(f"cosign {command[0]} {image}: {said}", CHECK_HINT)
    # verify-attestation prints one DSSE envelope per line; its payload is the statement.
    envelopes = [json.loads(line) for line in out.splitlines() if line.strip()]
    return Verified(tuple(json.loads(b64decode(e["payload"])) for e in envelopes))


def copy_signatures(image: str, target: str, timeout: float = 120) -> None:
    """Copy the signatures and attestations of `image` (`repository@sha256:...`) to `target`
    (`repository:tag` of the same digest), so the copy verifies as the original does."""
    _run(
        ["copy", "--only=sig,att", "--force", *_registry_args(image, target), image, target],
        f"copying the signatures of {image} to {target}",
        timeout,
    )


def _sign_args(image: str, key: str | None) -> list[str]:
    # A key pair needs no public log: verification trusts the key (Verifier.args). Keyless
    # signing takes Fulcio and Rekor from cosign's signing config (and CI's OIDC token).
    flags = ["--key", key, "--tlog-upload=false", "--use-signing-config=false"] if key else []
    # The .sig/.att tags, which `cosign copy` carries on promotion and every registry holds.
    return [*flags, "--new-bundle-format=false", "--yes", *_registry_args(image)]


def _registry_args(*images: str) -> list[str]:
    """Plain HTTP only on loopback, as envparity's own registry client does."""
    return ["--allow-http-registry"] if all(i.startswith(LOOPBACK) for i in images) else []


def _run(args: Sequence[str], doing: str, timeout: float) -> str:
    """cosign's stdout; CosignError with its error line when it fails."""
    code, out, said = _call(args, timeout)
    if code:
        raise CosignError(f"{doing}: cosign failed: {said}", CHECK_HINT)
    return out


def _call(args: Sequence[str], timeout: float) -> tuple[int, str, str]:
    """cosign's exit code, stdout and error line; CosignError when it hangs or cannot start."""
    command = [binary(), *args]
    try:
        with tempfile.TemporaryDirectory(prefix="envparity-cosign-") as tmp:
            out, err = Path(tmp, "out"), Path(tmp, "err")
            # Files, not pipes: a chatty process cannot block on a full pipe; read bounded.
            with out.open("wb") as stdout, err.open("wb") as stderr:
                code = subprocess.run(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    timeout=timeout,
                    check=False,
                ).returncode
            return code, _head(out), _last_error(_head(err))
    except subprocess.TimeoutExpired:
        raise CosignError(
            f"cosign {args[0]} did not answer within {timeout:.0f} s",
            "check that the registry is reachable, then retry",
        ) from None
    except OSError as exc:
        raise CosignMissing(f"cannot run {command[0]}: {exc.strerror or exc}", INSTALL) from None


def _head(path: Path) -> str:
    with path.open("rb") as f:
        return f.read(OUTPUT_LIMIT).decode("utf-8", "replace")


def _last_error(stderr: str) -> str:
    """cosign's own error line, without its `Error:` prefix and the deprecation warnings."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("Error:", "error during command"))]
    last = (errors or lines or ["(no message)"])[0]
    for prefix in ("Error: ", "error during command execution: "):
        last = last.removeprefix(prefix)
    return " ".join(last.split())[:300]
