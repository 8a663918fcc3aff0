"""The path parameter `{name:id}`: a record id, 1 to 10 digits; anything else (0, signs, 30 digits) is no route: 404."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    regex = "[1-9][0-9]{0,9}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


def register() -> None:
    """Make `{x:id}` known to Starlette's router (its registry is global: call before building routes)."""
    register_url_convertor("id", IdConvertor())
