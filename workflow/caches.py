"""Process-wide caches in one place: what each holds, and one call that clears them all.

Every cache here is keyed by content (a template's hash, a calendar's digest) or by something
that never changes once written (a version id of a given database), so a stale entry is never
wrong, only unused; `clear()` exists for tests and for a long-lived process that wants memory back.
"""

from __future__ import annotations

from typing import Any

_registry: dict[str, Any] = {}


def register(name: str, cache: Any) -> Any:
    """Record a cache (a dict, or anything with `clear()`) under a name; returns it."""
    _registry[name] = cache
    return cache


def clear() -> None:
    for cache in _registry.values():
        cache.clear() if hasattr(cache, "clear") else cache.cache_clear()


def sizes() -> dict[str, int]:
    """Entries per cache (for diagnostics)."""
    return {n: (len(c) if hasattr(c, "__len__") else c.cache_info().currsize) for n, c in _registry.items()}
