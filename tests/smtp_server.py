"""A real SMTP server on 127.0.0.1 for the mail tests (aiosmtpd): STARTTLS with a certificate the test makes
and a login, or implicit TLS; it keeps every message and refuses one address.

Import from tests as ``from smtp_server import ...`` (pytest puts tests/ on sys.path); importing a fixture
function into a test module makes its fixture (``smtp_server``, ``smtps_server``) available there.
"""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path
from typing import Any

import pytest
from mail_plans import SAM


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


USER, PASSWORD = "coordinator", "s3cret-Peñasco"


class _Inbox:
    """aiosmtpd handler: keeps every message, refuses one address."""

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == self.refused:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # aiosmtpd answers a failure with 535 itself


def _serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, implicit_tls: bool) -> Any:
    import socket

    from aiosmtpd.controller import Controller

    cert, key = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test's certificate, as a system CA
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox(refused=SAM[1])
    # aiosmtpd offers AUTH only after STARTTLS, so the implicit-TLS server takes mail without a login
    tls: dict[str, Any] = (
        {"ssl_context": context}
        if implicit_tls
        else {"tls_context": context, "require_starttls": True, "authenticator": _authenticate, "auth_required": True}
    )
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        **tls,
    )
    controller.start()
    try:
        yield inbox, f"127.0.0.1:{port}"
    finally:
        controller.stop()


@pytest.fixture(name="smtp_server")
def starttls_server_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A server on 127.0.0.1 that requires STARTTLS and a login, and refuses Sam's address."""
    yield from _serve(tmp_path, monkeypatch, implicit_tls=False)


@pytest.fixture(name="smtps_server")
def implicit_tls_server_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A server speaking TLS from the first byte (port 465 style), refusing Sam's address."""
    yield from _serve(tmp_path, monkeypatch, implicit_tls=True)
