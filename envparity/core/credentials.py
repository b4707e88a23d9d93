"""Credentials a spec must not hold: they would be copied into every file made from it.

A spec is committed, and what it says reaches the lock, the image (layers, labels, `ENV`),
the provenance record, the fingerprint, the stack configs, the manifests and every report.
A password in an index URL is refused; a value in `env` that looks like a token or a key
gets a warning pointing to `secrets:`, which names a secret and never holds it.
"""

from __future__ import annotations

import re

from envparity.core.diagnostics import Diagnostic

# user[:password]@ in the authority of a URL (before the first / ? #).
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")

INDEX_CREDENTIALS_HINT = (
    "keep credentials out of the spec: uv and pip read them from a netrc file "
    "(~/.netrc, or the file NETRC names), the keyring, UV_INDEX_<NAME>_USERNAME and "
    "UV_INDEX_<NAME>_PASSWORD, or an index URL set in the environment only "
    "(UV_INDEX_URL, PIP_INDEX_URL, PIP_EXTRA_INDEX_URL)"
)

# What each kind of token looks like (each issuer documents its prefix); a match anywhere in
# a value is enough, so a value never has to be shown to say why.
SECRET_PATTERNS = {
    "an AWS access key id": re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    "a GitHub token": re.compile(
        r"(?<![A-Za-z0-9_])(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"
    ),
    "a Hugging Face token": re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}"),
    "a Slack token": re.compile(r"(?<![A-Za-z0-9_])xox[abposr]-[A-Za-z0-9-]{10,}"),
    "a private key": re.compile(r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----"),
}


def has_userinfo(url: str) -> bool:
    """Whether `url` carries a user name (and perhaps a password) before its host."""
    return _USERINFO.match(url) is not None


def redacted(url: str) -> str:
    """`url` with its user name and password replaced by ***, to name it in a message."""
    return _USERINFO.sub(r"\1***@", url)


def index_url_problem(url: str) -> str | None:
    """The message refusing an index URL with credentials in it, or None."""
    if not has_userinfo(url):
        return None
    return (
        f"the index URL {redacted(url)} carries a user name or password: it would be written "
        "into the lock, the image and every record made from the spec"
    )


def secret_kind(value: str) -> str | None:
    """What kind of secret `value` looks like ("an AWS access key id"), or None."""
    return next((kind for kind, pattern in SECRET_PATTERNS.items() if pattern.search(value)), None)


def check_index_urls(where: tuple, urls: list) -> list[Diagnostic]:
    """A refusal for each URL of the list at `where` that carries credentials."""
    found = [(i, index_url_problem(u)) for i, u in enumerate(urls) if isinstance(u, str)]
    return [Diagnostic(m, (*where, i), INDEX_CREDENTIALS_HINT) for i, m in found if m]
