"""HTTP to registries with the rules a client holding credentials must keep (docs/promotion.md,
"Registries and credentials").

- Plain HTTP only for loopback IP literals (127.0.0.0/8, ::1, parsed by `ipaddress`), the
  name `localhost`, and the hosts in `ENVPARITY_INSECURE_REGISTRIES`; HTTPS everywhere else,
  verified against the system CAs, `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE` and Docker's
  `/etc/docker/certs.d/<host:port>/*.crt`.
- Redirects (GET and HEAD only, at most 5) never go from https to http, never to a host that
  would not be spoken to over plain HTTP anyway, and lose `Authorization` when the host
  changes (ECR sends blob downloads to S3 with a presigned URL).
- Every call runs under one deadline (connect and every read), and every body is read with a
  size cap: an endless or slow answer ends as a RegistryError, never as memory or time.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from envparity.core.diagnostics import UserError

INSECURE_ENV = "ENVPARITY_INSECURE_REGISTRIES"
CERTS_D = Path("/etc/docker/certs.d")
MAX_REDIRECTS = 5
CHUNK = 1 << 16
ERROR_BODY_CAP = 64 << 10  # an error answer's JSON, read for its message only


class RegistryError(UserError):
    """A registry call that failed for a reason the user can act on: one line and a hint."""


class Unreachable(RegistryError):
    """The registry could not be reached at all (no such host, connection refused)."""


class Unusable(RegistryError):
    """The registry answered, but not usably: too slow, too large, malformed or wrong bytes."""


class Deadline:
    """Seconds left of one operation's time; `left()` raises Unusable once they are spent."""

    def __init__(self, seconds: float, what: str = "the registry") -> None:
        self.end, self.seconds, self.what = time.monotonic() + seconds, seconds, what

    def left(self) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise Unusable(
                f"{self.what} did not answer within {self.seconds:g}s (timed out)",
                "check the registry's load and network path, then retry",
            )
        return remaining


def _insecure_entries() -> list[str]:
    return [e for e in os.environ.get(INSECURE_ENV, "").replace(",", " ").split() if e]


def plain_http_allowed(netloc: str) -> bool:
    """Whether `host[:port]` may be spoken to over plain HTTP (see the module docstring)."""
    host = urllib.parse.urlsplit(f"//{netloc}").hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if (address is not None and address.is_loopback) or host == "localhost":
        return True
    for entry in _insecure_entries():
        if entry in (netloc, host):
            return True
        if address is not None and "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def base_url(netloc: str) -> str:
    """`http://` where plain HTTP is allowed (`send` still prefers TLS there), else https."""
    return f"{'http' if plain_http_allowed(netloc) else 'https'}://{netloc}"


_SCHEMES: dict[str, str] = {}  # netloc -> the scheme a plain-HTTP-allowed registry speaks


def _scheme(netloc: str, deadline: Deadline) -> str:
    """What a registry that may be spoken to over plain HTTP actually speaks: a bare probe
    (`GET /v2/`, no credentials) over HTTP; a TLS server answers it with Go's 400 "HTTP
    request to an HTTPS server" or drops it, and is then spoken to over verified HTTPS."""
    if netloc in _SCHEMES:
        return _SCHEMES[netloc]
    parts = urllib.parse.urlsplit(f"//{netloc}")
    connection = http.client.HTTPConnection(
        parts.hostname or "", parts.port, timeout=min(deadline.left(), 10.0)
    )
    try:
        connection.request("GET", "/v2/")
        answer = connection.getresponse()
        tls = answer.status == 400 and b"HTTPS server" in answer.read(512)
    except (ConnectionRefusedError, socket.gaierror) as exc:
        raise Unreachable(
            f"registry {netloc} unreachable: {exc}",
            "check the stage's registry: address and that the registry runs",
        ) from None
    except TimeoutError:
        raise Unusable(
            f"registry {netloc} did not answer GET /v2/ in time",
            "check the registry's load and network path, then retry",
        ) from None
    except (OSError, http.client.HTTPException):
        tls = True  # not HTTP: a TLS server that dropped the plain request
    finally:
        connection.close()
    _SCHEMES[netloc] = "https" if tls else "http"
    return _SCHEMES[netloc]


def tls_context(netloc: str) -> ssl.SSLContext:
    """System CAs (OpenSSL honours SSL_CERT_FILE/SSL_CERT_DIR), REQUESTS_CA_BUNDLE, and the
    CAs Docker trusts for this registry (certs.d/<host:port>/*.crt)."""
    context = ssl.create_default_context()
    bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    cafiles = [Path(bundle)] if bundle else []
    directory = CERTS_D / netloc
    if directory.is_dir():
        cafiles += sorted(directory.glob("*.crt"))
    for cafile in cafiles:
        try:
            context.load_verify_locations(cafile=str(cafile))
        except (OSError, ssl.SSLError) as exc:
            raise RegistryError(
                f"cannot load the CA file {cafile}: {exc}",
                "fix or remove it (a PEM certificate is expected)",
            ) from None
    return context


@dataclass
class Response:
    """An answer whose body is still on the wire: read it with `read` or `chunks`."""

    status: int
    headers: http.client.HTTPMessage
    url: str
    _raw: http.client.HTTPResponse
    _connection: http.client.HTTPConnection
    _sock: socket.socket
    _deadline: Deadline
    consumed: int = field(default=0)

    def header(self, name: str) -> str:
        return self.headers.get(name, "") or ""

    def chunks(self, cap: int, what: str):
        """The body in chunks; Unusable once more than `cap` bytes came, or time ran out."""
        declared = self.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise _too_large(what, cap, int(declared))
        while True:
            self._sock.settimeout(self._deadline.left())
            try:
                chunk = self._raw.read1(CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                raise _broken(what, exc) from None
            if not chunk:
                return
            self.consumed += len(chunk)
            if self.consumed > cap:
                raise _too_large(what, cap)
            yield chunk

    def read(self, cap: int, what: str) -> bytes:
        return b"".join(self.chunks(cap, what))

    def close(self) -> None:
        self._raw.close()
        self._connection.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _too_large(what: str, cap: int, declared: int | None = None) -> Unusable:
    size = f"declares {declared} bytes" if declared is not None else "is longer"
    return Unusable(
        f"{what} {size} than the {cap}-byte limit",
        "the registry answered something that is not this artifact: check the registry",
    )


def _broken(what: str, exc: BaseException) -> Unusable:
    if isinstance(exc, TimeoutError):
        return Unusable(
            f"{what}: the registry stopped answering (timed out)",
            "check the registry's load and network path, then retry",
        )
    return Unusable(f"{what}: the answer broke off ({exc})", "retry; check the registry's log")


def send(
    method: str,
    url: str,
    deadline: Deadline,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | IO[bytes] | None = None,
    authorization: str | None = None,
) -> Response:
    """One request, following redirects of GET/HEAD by the rules above; the open answer."""
    headers = dict(headers or {})
    origin = urllib.parse.urlsplit(url)
    for _ in range(MAX_REDIRECTS + 1):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "http" and not plain_http_allowed(parts.netloc):
            raise RegistryError(
                f"refusing plain HTTP to {parts.netloc}",
                f"registries other than loopback IPs speak HTTPS; to allow plain HTTP, list "
                f"the host in {INSECURE_ENV}",
            )
        if parts.scheme == "http" and _scheme(parts.netloc, deadline) == "https":
            parts = parts._replace(scheme="https")
            url = parts.geturl()
            if (origin.scheme, origin.netloc) == ("http", parts.netloc):
                origin = parts  # the registry itself: its login goes along, over TLS
        sent = dict(headers)
        if authorization and (parts.scheme, parts.netloc) == (origin.scheme, origin.netloc):
            sent["Authorization"] = authorization
        response = _once(method, parts, deadline, sent, body)
        if response.status not in (301, 302, 303, 307, 308) or method not in ("GET", "HEAD"):
            return response
        location = response.header("Location")
        response.close()
        if not location:
            raise Unusable(
                f"{parts.netloc} redirected {method} {parts.path} nowhere (no Location)",
                "check the registry's log",
            )
        target = urllib.parse.urljoin(url, location)
        if parts.scheme == "https" and urllib.parse.urlsplit(target).scheme != "https":
            raise RegistryError(
                f"{parts.netloc} redirected {parts.path} from https to {target.split('?')[0]}",
                "a registry must not downgrade to plain HTTP: check its storage redirect setup",
            )
        url = target
    raise Unusable(
        f"{origin.netloc}: more than {MAX_REDIRECTS} redirects for {origin.path}",
        "check the registry's redirect setup",
    )


def _once(method, parts, deadline: Deadline, headers, body) -> Response:
    host, port = parts.hostname or "", parts.port
    timeout = deadline.left()
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=tls_context(parts.netloc)
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, path, body=body, headers=headers)
        sock = connection.sock  # the response keeps it; the connection may let go of it
        sock.settimeout(deadline.left())
        raw = connection.getresponse()
    except ssl.SSLCertVerificationError as exc:
        connection.close()
        raise RegistryError(
            f"registry {parts.netloc}: TLS certificate not trusted ({exc.verify_message})",
            f"put its CA in /etc/docker/certs.d/{parts.netloc}/ca.crt or SSL_CERT_FILE",
        ) from None
    except TimeoutError:
        connection.close()
        raise Unusable(
            f"registry {parts.netloc} did not answer {method} {parts.path} in time",
            "check the registry's load and network path, then retry",
        ) from None
    except (ConnectionRefusedError, socket.gaierror) as exc:
        connection.close()
        raise Unreachable(
            f"registry {parts.netloc} unreachable: {exc}",
            "check the stage's registry: address and that the registry runs",
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        raise Unusable(
            f"registry {parts.netloc}: {method} {parts.path} failed ({type(exc).__name__}: {exc})",
            "check that it is a registry (HTTP API v2) and retry",
        ) from None
    return Response(raw.status, raw.headers, parts.geturl(), raw, connection, sock, deadline)
