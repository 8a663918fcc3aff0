"""Facts about the database itself (the meta table): simulation mark, audit key fingerprint."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from .engine import Tx
from .models import Meta

SIMULATION = "simulation"  # value: why ("demo")
AUDIT_KEY = "audit_key_id"  # value: the fingerprint of the key that signs the trail
SIMULATION_CLOCK = "simulation_clock"  # value: the moment a simulation's story has reached (ISO, UTC)


def get(tx: Tx, key: str) -> str | None:
    return tx.execute(select(Meta.value).where(Meta.key == key)).scalar_one_or_none()


def put(tx: Tx, key: str, value: str) -> None:
    ins = (postgresql if tx.dialect == "postgresql" else sqlite).insert(Meta).values(key=key, value=value)
    tx.execute(ins.on_conflict_do_update(index_elements=["key"], set_={"value": value}))
