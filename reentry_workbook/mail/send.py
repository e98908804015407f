"""Send messages over SMTP: STARTTLS by default, implicit TLS on request, plain only when asked explicitly
(a local relay). One connection for all messages; a recipient the server refuses is reported with the
server's words and the other messages still go.

The server's certificate is checked against the system's trusted authorities (``SSL_CERT_FILE`` names
another bundle). The password is given by the caller, never read from an option here.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from ..errors import MailError, UsageError

STARTTLS = "starttls"
SSL = "ssl"
INSECURE = "insecure"
DEFAULT_PORTS = {STARTTLS: 587, SSL: 465, INSECURE: 25}
TIMEOUT = 60  # seconds to wait for the server at each step


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str = STARTTLS
    user: str | None = None
    password: str | None = None

    @property
    def shown(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass
class Outcome:
    """What happened to one message: sent to every recipient, to some (``refused`` the others), or not at all."""

    label: str
    recipients: list[str]
    refused: dict[str, str] = field(default_factory=dict)  # address -> the server's reply
    error: str | None = None  # why the message was not sent at all

    @property
    def sent(self) -> bool:
        return self.error is None

    @property
    def problem(self) -> str:
        if self.error:
            return self.error
        return "; ".join(f"{addr} refused by the server ({reply})" for addr, reply in self.refused.items())


def parse_server(text: str, *, security: str = STARTTLS) -> tuple[str, int]:
    """``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT`` as (host, port); the port defaults by ``security``."""
    value = text.strip()
    host, port = value, ""
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest.removeprefix(":")
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    if not host or (port and not (port.isdigit() and 0 < int(port) < 65536)):
        raise UsageError(f"--smtp {text!r} is not a server; write it as HOST or HOST:PORT, e.g. smtp.example.org:587")
    return host, int(port) if port else DEFAULT_PORTS[security]


def send_all(
    messages: Sequence[tuple[str, EmailMessage]], server: Server, *, progress: Callable[[int], None] | None = None
) -> list[Outcome]:
    """Send each (label, message) over one connection; a failure of one message does not stop the others.

    Raises :class:`MailError` when the server cannot be reached, is not secure as asked, or refuses the login.
    """
    outcomes: list[Outcome] = []
    smtp: smtplib.SMTP | None = None
    try:
        for label, msg in messages:
            recipients = [a.addr_spec for h in ("To", "Cc", "Bcc") for a in getattr(msg[h], "addresses", ())]
            outcome = Outcome(label, recipients)
            if not recipients:
                outcome.error = "no recipient: it has no email address"
            else:
                if smtp is None:
                    smtp = connect(server)
                try:
                    refused = smtp.send_message(msg)
                    outcome.refused = {addr: _reply(code, text) for addr, (code, text) in refused.items()}
                except smtplib.SMTPRecipientsRefused as exc:
                    outcome.refused = {addr: _reply(code, text) for addr, (code, text) in exc.recipients.items()}
                    outcome.error = "every recipient was refused: " + "; ".join(
                        f"{addr} ({reply})" for addr, reply in outcome.refused.items()
                    )
                except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                    outcome.error = f"the server refused it ({_reply(exc.smtp_code, exc.smtp_error)})"
                except (smtplib.SMTPException, OSError) as exc:
                    outcome.error = f"the connection failed while sending ({exc or type(exc).__name__})"
                    _close(smtp)
                    smtp = None  # the next message connects again
            outcomes.append(outcome)
            if progress:
                progress(1)
    finally:
        if smtp is not None:
            _close(smtp)
    return outcomes


def connect(server: Server) -> smtplib.SMTP:
    """An open, secured and logged-in connection to ``server``, or :class:`MailError` with one line."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP | None = None
    try:
        if server.security == SSL:
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
        smtp.ehlo()
        if server.security == STARTTLS:
            if not smtp.has_extn("starttls"):
                raise MailError(
                    f"the mail server {server.shown} does not offer STARTTLS, so the password and messages would "
                    "travel unencrypted; use --smtp-ssl with its TLS port, or --smtp-insecure for a local relay"
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if server.user:
            _login(smtp, server.user, server.password or "")
    except MailError:
        _close(smtp)
        raise
    except smtplib.SMTPAuthenticationError as exc:
        _close(smtp)
        said = _reply(exc.smtp_code, exc.smtp_error)
        raise MailError(
            f"the mail server {server.shown} refused the user name or password ({said}); "
            "check --smtp-user and the password in REENTRY_WORKBOOK_SMTP_PASSWORD, then try again"
        ) from None
    except smtplib.SMTPNotSupportedError:
        _close(smtp)
        raise MailError(
            f"the mail server {server.shown} does not offer a login here; leave out --smtp-user, or use the "
            "server your mail program sends through"
        ) from None
    except ssl.SSLCertVerificationError as exc:
        _close(smtp)
        raise MailError(
            f"the certificate of the mail server {server.shown} could not be verified ({exc.verify_message}); "
            "check the server name, or point SSL_CERT_FILE at your organisation's certificate bundle"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        _close(smtp)
        raise MailError(
            f"could not reach the mail server {server.shown} ({exc or type(exc).__name__}); check the host, the "
            "port and --smtp-ssl, then try again"
        ) from None
    return smtp


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in once, with AUTH PLAIN (RFC 4616, UTF-8, so any password works) where the server offers it, else
    with smtplib's choice of method."""
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("AUTH")
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        smtp.login(user, password)
        return
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, said = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, said)


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(said.split())}"


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
