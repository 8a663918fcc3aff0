"""The notice channels, registered in one place: a new channel is a module (see base.Channel) and a line here."""

from __future__ import annotations

from ..errors import InvalidInput
from . import email, webhook
from .base import Addressed, Channel, Reader

CHANNELS: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    """Make a channel known: notices are addressed by it when queued, and its rows are delivered by its transport."""
    CHANNELS[channel.name] = channel
    return channel


for _channel in (email.CHANNEL, webhook.CHANNEL):  # ← the registration line: add a channel's CHANNEL here
    register(_channel)


def channel(name: str) -> Channel:
    """The channel of a stored row (a row of a channel no longer registered cannot be delivered: it says so)."""
    found = CHANNELS.get(name)
    if found is None:
        raise InvalidInput(f"no notice channel '{name}' (registered: {', '.join(CHANNELS)})", channel=name)
    return found


__all__ = ["CHANNELS", "Addressed", "Channel", "Reader", "channel", "register"]
