"""A small CA bundle for the test processes: the suite never reaches a public HTTPS server.

Every ``httpx.get(...)`` (and every ``httpx.Client``, the node's outbound client
included) builds an SSL context, even for an ``http://`` URL, and loads a whole trust
store into it (certifi's, or the file ``SSL_CERT_FILE`` names): 25 ms of CPU per call on
this 2-core machine when quiet, 80 ms under load. That made the real-server HTTP tests
3x slower than their requests (tests/test_http_*.py: 26 s, 8 s with this bundle).
httpx reads ``SSL_CERT_FILE`` first (``httpx._config.create_ssl_context``), and so does
every subprocess the tests start (``ddsnode serve``), since they inherit the
environment; ``bench/test_client_cost.py`` measures the difference. The bundle holds
one real root CA (the first of certifi's), so verification stays on and an HTTPS
connection to anything else fails loudly rather than silently trusting it; the TLS
tests (tests/test_outbound.py) pass their own contexts.
"""

from __future__ import annotations

import atexit
import os
import re
import tempfile
from pathlib import Path

import certifi

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)


def use_small_bundle() -> Path | None:
    """Point ``SSL_CERT_FILE`` at a one-CA bundle, for this process and its children."""
    # Set even when the environment names a bundle: machines (this one, CI images) often
    # export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt for every program, and
    # loading it costs the same as certifi's. SSL_CERT_DIR goes too (httpx reads it only
    # when SSL_CERT_FILE is unset; ``ddsnode`` subprocesses inherit both).
    os.environ.pop("SSL_CERT_DIR", None)
    first = _PEM.search(Path(certifi.where()).read_text("ascii"))
    if first is None:  # an unexpected certifi layout: keep httpx's default
        return None
    # One file per process (xdist workers write their own; no shared file to race on).
    handle, name = tempfile.mkstemp(prefix="ddsnode-tests-ca-", suffix=".pem")
    with os.fdopen(handle, "w", encoding="ascii") as out:
        out.write(first.group(0) + "\n")
    path = Path(name)
    os.environ["SSL_CERT_FILE"] = str(path)
    atexit.register(path.unlink, missing_ok=True)
    return path
