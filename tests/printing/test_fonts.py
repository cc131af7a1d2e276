"""The fonts: found on the system, parsed once, covering the CJK extensions; a clear error when absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from certkit import NO_GLYPH

from printing import fonts
from printing.errors import FontsMissing


def test_the_simplified_chinese_face_of_noto_serif_cjk_is_chosen() -> None:
    paths = fonts.find_fonts()
    assert paths.serif.path.name.startswith("NotoSerif")
    from fontTools.ttLib import TTFont

    face = TTFont(str(paths.serif.path), fontNumber=paths.serif.index, lazy=True)
    assert face["name"].getBestFamilyName() == "Noto Serif CJK SC"


@pytest.mark.parametrize("text", ["专业技术职务任职资格证书", "䶮", "𠀾", "𪚥", "\U0002B81D", "\U0002CEA1",
                                  "\U0002EBE0", "Li Xiaoming 110***********0418（）：；"])
def test_covers_common_text_and_the_cjk_extensions_a_to_f(text: str) -> None:
    assert fonts.covers(text)


def test_a_character_no_font_has_is_reported_not_covered() -> None:
    assert not fonts.covers("李" + NO_GLYPH)
    assert fonts.uncovered("李" + NO_GLYPH) == [NO_GLYPH]


def test_fonts_are_parsed_once_per_process() -> None:
    assert fonts.font_set() is fonts.font_set()


def test_a_missing_font_is_a_clear_error_naming_the_debian_packages(tmp_path: Path) -> None:
    with pytest.raises(FontsMissing) as caught:
        fonts.find_fonts([tmp_path], defaults=False)
    assert caught.value.code == "fonts_missing"
    assert "fonts-noto-cjk" in caught.value.message and "fonts-hanazono" in caught.value.message


def test_variation_sequences_stay_one_unit_of_text() -> None:
    assert fonts.clusters("葛\U000E0100明") == ["葛\U000E0100", "明"]
