"""Delivery behind one interface: SMTP, `.eml` files, webhooks (group robots), or in memory for tests."""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .render import one_line


class DeliveryError(Exception):
    """Sending failed; the message stays in the outbox and is retried."""


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    to_addr: str
    to_name: str
    subject: str
    text: str
    html: str
    created_at: datetime
    to: tuple[tuple[str, str], ...] = ()  # (name, address) of each reader who must act; empty: to_name <to_addr>
    cc: tuple[tuple[str, str], ...] = ()  # (name, address) of each reader informed (抄送)
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (file name, MIME type, bytes): only a 督办单's PDF


@dataclass(frozen=True)
class MailConfig:
    sender: str = "wuzhuan@localhost"
    sender_name: str = "人大常委会督办系统"
    timezone: str = "Asia/Shanghai"  # of the Date header: the readers' local time


def build_message(msg: Outgoing, cfg: MailConfig) -> EmailMessage:
    em = EmailMessage()
    em["Message-ID"] = msg.message_id
    em["Date"] = format_datetime(msg.created_at.astimezone(ZoneInfo(cfg.timezone)))
    em["From"] = Address(display_name=one_line(cfg.sender_name), addr_spec=cfg.sender)
    to = msg.to or ((msg.to_name, msg.to_addr),)
    em["To"] = [Address(display_name=one_line(n), addr_spec=one_line(a)) for n, a in to]
    if msg.cc:
        em["Cc"] = [Address(display_name=one_line(n), addr_spec=one_line(a)) for n, a in msg.cc]
    em["Subject"] = one_line(msg.subject)
    em.set_content(msg.text)
    em.add_alternative(msg.html, subtype="html")
    for name, mime, data in msg.attachments:  # multipart/mixed: the alternative parts, then each attachment
        maintype, subtype = mime.split("/", 1)
        em.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return em


class Transport(ABC):
    """Open, send messages, close. `send` raises DeliveryError for this message only."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc) -> None:
        return None

    @abstractmethod
    def send(self, msg: Outgoing) -> str:
        """Send one message; returns where it went."""


@dataclass
class MemoryTransport(Transport):
    cfg: MailConfig = field(default_factory=MailConfig)
    sent: list[EmailMessage] = field(default_factory=list)
    fail_with: str | None = None

    def send(self, msg: Outgoing) -> str:
        if self.fail_with:
            raise DeliveryError(self.fail_with)
        self.sent.append(build_message(msg, self.cfg))
        return "memory"


@dataclass
class FileTransport(Transport):
    """Writes each message as `<directory>/<message-id>.eml`; rewriting the same message is harmless."""

    directory: Path
    cfg: MailConfig = field(default_factory=MailConfig)

    def send(self, msg: Outgoing) -> str:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            stem = msg.message_id.strip("<>").split("@")[0]
            path = self.directory / f"{stem}.eml"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(bytes(build_message(msg, self.cfg)))
            tmp.replace(path)
        except OSError as e:
            raise DeliveryError(f"cannot write {self.directory}: {e.strerror}") from None
        return str(path)


@dataclass
class SMTPTransport(Transport):
    host: str
    port: int = 25
    security: str = "none"  # none | starttls | tls
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    cfg: MailConfig = field(default_factory=MailConfig)
    _conn: smtplib.SMTP | None = field(default=None, repr=False)

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.security == "tls":
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
            if self.user:
                conn.login(self.user, self.password or "")
            return conn
        except UnicodeEncodeError:
            raise DeliveryError(f"the mail server {self.host}:{self.port}: the SMTP user name and password must be "
                                "ASCII (Python's smtplib sends them so)") from None
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(f"the mail server {self.host}:{self.port} refused the login for user "
                                f"'{self.user}' ({e.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as e:
            raise DeliveryError(f"cannot reach the mail server {self.host}:{self.port}: {e}") from None

    def __exit__(self, *exc) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (OSError, smtplib.SMTPException):
                self._conn.close()  # QUIT is a courtesy: the messages were sent or recorded as failed already
            self._conn = None

    def send(self, msg: Outgoing) -> str:
        if self._conn is None:
            self._conn = self._connect()
        try:
            self._conn.send_message(build_message(msg, self.cfg))
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(f"the mail server refused {msg.to_addr}: {e.recipients}") from None
        except (OSError, smtplib.SMTPException) as e:
            self._conn = None
            raise DeliveryError(f"sending to {msg.to_addr} failed: {e}") from None
        return f"{self.host}:{self.port}"


def webhook_payload(msg: Outgoing) -> dict:
    """The JSON a group robot takes: 钉钉 and 企业微信 robots both read {"msgtype": "text", "text": {"content": …}};
    the Message-ID travels beside it, so that a receiver can drop a repeat."""
    return {"msgtype": "text", "text": {"content": f"{one_line(msg.subject)}\n\n{msg.text}"},
            "message_id": msg.message_id, "subject": one_line(msg.subject)}


@dataclass
class WebhookTransport(Transport):
    """POSTs each message as JSON to its URL (the unit's robot); any 2xx answer is delivered."""

    timeout: float = 15.0

    def send(self, msg: Outgoing) -> str:
        url = msg.to_addr
        if not url.startswith(("http://", "https://")):
            raise DeliveryError(f"webhook address '{one_line(url)[:80]}' is not an http(s) URL")
        body = json.dumps(webhook_payload(msg), ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "X-Wuzhuan-Message-ID": msg.message_id,
            "User-Agent": "wuzhuan"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (an http(s) URL, checked above)
                status = resp.status
        except urllib.error.HTTPError as e:
            raise DeliveryError(f"the webhook {url} answered {e.code} {e.reason}") from None
        except (OSError, ValueError) as e:
            raise DeliveryError(f"cannot reach the webhook {url}: {getattr(e, 'reason', e)}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"the webhook {url} answered {status}")
        return url
