"""What may be fetched: the SSRF guard (http/https to public addresses only) and robots.txt.

The guard is applied twice: to every URL before a request (each redirect hop included), for a clear
refusal, and to the address a connection is actually opened to (``GuardedBackend``), so a name that
resolves differently the second time (DNS rebinding) cannot reach a private address either.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

ALLOWED_SCHEMES = ("http", "https")


class RefusedURL(Exception):  # noqa: N818 - an outcome of the fetch, recorded with its reason
    """The URL may not be fetched (scheme, private target, robots.txt); the message says why."""


def host_key(url: str) -> str:
    """The host as the allow-list and the per-host counters name it (lower case, no port)."""
    return (urlsplit(url).hostname or "").lower()


def is_public(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])  # an IPv6 zone id is not part of the address
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    return addr.is_global and not addr.is_multicast


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise RefusedURL(f"cannot resolve {host}: {e}") from e
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_address(host: str, ips: list[str], allow_hosts: frozenset[str]) -> None:
    """Every address a name resolves to must be public, unless the name itself is allowed."""
    if host.lower() in allow_hosts:
        return
    private = [ip for ip in ips if not is_public(ip)]
    if private:
        raise RefusedURL(
            f"{host} resolves to a non-public address {private[0]} (loopback, private, link-local or "
            "reserved): list the host in ETL_FETCH_ALLOW_HOSTS to allow it"
        )


def check_url(url: str, allow_hosts: frozenset[str]) -> None:
    """Refuse what is not http(s) or whose host is (or resolves to) a non-public address."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise RefusedURL(f"scheme {parts.scheme or '(none)'!r} refused: only http and https")
    host = (parts.hostname or "").lower()
    if not host:
        raise RefusedURL(f"no host in {url!r}")
    if parts.username or parts.password:
        raise RefusedURL("credentials in URLs are refused")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as e:
        raise RefusedURL(f"bad port in {url!r}") from e
    if host in allow_hosts:
        return
    check_address(host, resolve(host, port), allow_hosts)


class GuardedBackend:
    """An httpcore network backend that checks the address it connects to and connects to that address."""

    def __init__(self, inner, allow_hosts: frozenset[str]):
        self._inner = inner
        self._allow = allow_hosts

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        name = host.decode("ascii") if isinstance(host, bytes) else host
        if name.lower() in self._allow:
            target = name
        else:
            ips = resolve(name, port)
            check_address(name, ips, self._allow)
            target = ips[0]
        return self._inner.connect_tcp(
            target, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    def connect_unix_socket(self, *args, **kwargs):  # never: only TCP to checked addresses
        raise RefusedURL("unix sockets are refused")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def robots_from(status: int, text: str) -> RobotFileParser:
    """robots.txt as the standard library reads it: 401/403 disallow everything, another 4xx (none) or
    5xx allows everything (a site without robots.txt; a broken one is not a refusal)."""
    rp = RobotFileParser()
    if status in (401, 403):
        rp.disallow_all = True
    elif status >= 400:
        rp.allow_all = True
    else:
        rp.parse(text.splitlines())
    return rp
