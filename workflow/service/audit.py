"""Checking the audit trail end to end."""

from __future__ import annotations

from ..audit_chain import VerifyResult, verify
from ..store import Store
from ..store import audit as audit_store


def verify_audit(store: Store) -> VerifyResult:
    """Walk the whole chain; names the first event modified, deleted, reordered or inserted."""
    with store.read() as tx:
        head = audit_store.head(tx)
        return verify(audit_store.iter_events(tx), head.last_seq, head.last_hash)
