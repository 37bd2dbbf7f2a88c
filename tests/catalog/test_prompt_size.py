"""A prompt's messages hold at most as much text as a template: parsing them costs time in proportion."""

from __future__ import annotations

import pytest

from catalog.errors import InvalidInput
from catalog.schemas import parse_manifest
from tests.factories import manifest


def test_messages_are_bounded_in_all_like_a_template() -> None:
    messages = [{"role": "user", "content": "x" * 20_000} for _ in range(6)]
    with pytest.raises(InvalidInput) as err:
        parse_manifest(manifest(spec={"messages": messages, "variables": []}))
    assert "120,000 characters in all" in err.value.problems[0].detail
    parse_manifest(manifest(spec={"messages": messages[:5], "variables": []}))
