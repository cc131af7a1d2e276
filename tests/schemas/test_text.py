"""Printable text: names in CJK extensions newer than Python's Unicode database are accepted."""

from __future__ import annotations

import pytest

from schemas.text import is_printable


@pytest.mark.parametrize("name", ["张三", "刘䶮𠀾𪚥", "王\U00030000", "王\U00031350", "李\U0002EBF0"])
def test_names_with_cjk_extension_characters_are_printable(name: str) -> None:
    assert is_printable(name)


@pytest.mark.parametrize("text", ["张\x00三", "张\n三", "a\u200bb", "\U000323B0", "\ue000"])
def test_control_format_private_and_unassigned_characters_are_not(text: str) -> None:
    assert not is_printable(text)
