"""A token realm for the loopback registry that `.ci/services up` runs behind Bearer auth.

The distribution spec's token flow: the registry answers 401 with
`WWW-Authenticate: Bearer realm=...,service=...,scope=...`; the client asks this realm
(`GET /token?service=...&scope=repository:team/app:pull,push`, with Basic credentials or
none) and gets a JWT whose `access` claim lists what it may do; the registry checks the
signature against its `rootcertbundle` and the claim against the request.

Standard library only; the RS256 signature is made by `openssl dgst -sha256 -sign` with the
signing key, and the token's `x5c` header carries the signing certificate (signed by the
tests' CA, which is the registry's `rootcertbundle`).

    python3 token_realm.py --address 127.0.0.1:5003 --users users.json --key signer.key \
        --cert signer.crt --issuer envparity-test-realm --service envparity-test-registry

users.json: {"NAME": {"salt": HEX, "pbkdf2_sha256": HEX, "grants": {"team/*": ["pull", "push"]}}}
(repository patterns are fnmatch patterns; anonymous callers get no access at all).
A grant is the intersection of what is asked and what the user may do, as the spec says:
a token never holds more than was asked, and asking for more is not an error.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import hmac
import json
import ssl
import subprocess
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

TOKEN_SECONDS = 300
PBKDF2_ROUNDS = 100_000


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def password_hash(password: str, salt: bytes) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ROUNDS).hex()


def granted(grants: dict[str, list[str]], scope: str) -> dict | None:
    """The access entry for one `type:name:actions` scope, or None when nothing is granted."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if kind != "repository" or not name:
        return None
    asked = [a for a in actions.split(",") if a]
    allowed: set[str] = set()
    for pattern, may in grants.items():
        if fnmatch.fnmatchcase(name, pattern):
            allowed.update(may)
    actions_granted = [a for a in asked if a in allowed or ("*" in allowed)]
    return {"type": kind, "name": name, "actions": actions_granted}


class Realm:
    def __init__(self, args: argparse.Namespace):
        self.users = json.loads(Path(args.users).read_text(encoding="utf-8"))
        self.key = args.key
        der = ssl.PEM_cert_to_DER_cert(Path(args.cert).read_text(encoding="ascii"))
        self.x5c = [base64.b64encode(der).decode("ascii")]
        self.issuer = args.issuer
        self.service = args.service

    def user(self, authorization: str | None) -> tuple[str, dict] | bool | None:
        """(name, entry) for valid Basic credentials, None for none, False for wrong ones."""
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            name, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        entry = self.users.get(name)
        if entry is None:
            return False
        expected = entry["pbkdf2_sha256"]
        if not hmac.compare_digest(password_hash(password, bytes.fromhex(entry["salt"])), expected):
            return False
        return name, entry

    def token(self, subject: str, access: list[dict]) -> dict:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + TOKEN_SECONDS,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = (
            f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        )
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", self.key],
            input=signing_input.encode(),
            capture_output=True,
            check=True,
        ).stdout
        token = f"{signing_input}.{b64url(signature)}"
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        return {
            "token": token,
            "access_token": token,
            "expires_in": TOKEN_SECONDS,
            "issued_at": issued,
        }


class Handler(BaseHTTPRequestHandler):
    realm: Realm

    def reply(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self.reply(200, {"ok": True})
            return
        if url.path != "/token":
            self.reply(404, {"error": "not_found"})
            return
        query = parse_qs(url.query)
        if query.get("service", [self.realm.service])[0] != self.realm.service:
            self.reply(400, {"error": "invalid_request", "error_description": "unknown service"})
            return
        who = self.realm.user(self.headers.get("Authorization"))
        if who is False:
            self.reply(
                401,
                {"error": "unauthorized", "error_description": "wrong user name or password"},
                {"WWW-Authenticate": 'Basic realm="envparity-test-realm"'},
            )
            return
        subject, grants = ("", {}) if who is None else (who[0], who[1]["grants"])
        access = [
            entry
            for scope in query.get("scope", [])
            for part in scope.split(" ")
            if (entry := granted(grants, part)) is not None
        ]
        self.reply(200, self.realm.token(subject, access))

    def log_message(self, format: str, *args) -> None:  # one line per request, to the log
        sys.stderr.write(f"token-realm: {self.address_string()} {format % args}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for option in ("address", "users", "key", "cert", "issuer", "service"):
        parser.add_argument(f"--{option}", required=True)
    args = parser.parse_args()
    host, _, port = args.address.rpartition(":")
    Handler.realm = Realm(args)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    sys.stderr.write(f"token-realm: serving http://{args.address}/token\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
