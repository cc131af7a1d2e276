"""Levels, channels and the bundled series → level → qualification data."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
from importlib import resources
from pathlib import Path

import pytest

import schemas.titles as titles_module
from schemas.titles import (
    CHANNELS,
    LEVELS,
    TitleCheck,
    TitleData,
    TitleDataError,
    channel_code,
    channel_name,
    check_qualification,
    level_from_letter,
    level_letter,
    level_rank,
    qualifications_for,
    resolve_series,
    series_names,
    title_data,
)

ENGINEERING = "工程技术人员"  # the data's key for the 工程 series


# --- levels ---------------------------------------------------------------------------------------------


def test_levels_in_order_with_letters() -> None:
    assert list(LEVELS.items()) == [
        ("正高级", "A"),
        ("副高级", "B"),
        ("中级", "C"),
        ("助理级", "D"),
        ("员级", "E"),
    ]
    with pytest.raises(TypeError):
        LEVELS["特级"] = "S"  # type: ignore[index]


@pytest.mark.parametrize(("level", "letter"), list(LEVELS.items()))
def test_level_letter_round_trip(level: str, letter: str) -> None:
    assert level_letter(level) == letter
    assert level_from_letter(letter) == level
    assert level_from_letter(letter.lower()) == level


@pytest.mark.parametrize("bad", ["高级", "初级", "", "A", "正高"])
def test_unknown_level_name(bad: str) -> None:
    for function in (level_letter, level_rank):
        with pytest.raises(TitleDataError) as caught:
            function(bad)
        assert caught.value.code == "invalid_level"
        assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("bad", ["F", "", "AB", "正高级", "Ａ"])
def test_unknown_level_letter(bad: str) -> None:
    with pytest.raises(TitleDataError) as caught:
        level_from_letter(bad)
    assert caught.value.code == "invalid_level"


def test_level_rank_puts_senior_first() -> None:
    ranks = [level_rank(level) for level in LEVELS]
    assert ranks == sorted(ranks, reverse=True)
    assert len(set(ranks)) == len(ranks)
    # "Only the highest title is converted."
    assert max(["中级", "正高级", "副高级"], key=level_rank) == "正高级"
    assert level_rank("员级") < level_rank("助理级") < level_rank("中级")


# --- channels -------------------------------------------------------------------------------------------


def test_channel_codes() -> None:
    assert dict(CHANNELS) == {
        "评审": "review",
        "自主评审": "self_review",
        "自主聘任": "self_appointment",
        "以考代评": "exam",
        "委托评审": "entrusted_review",
        "换证": "conversion",
    }
    for name, code in CHANNELS.items():
        assert channel_code(name) == code
        assert channel_name(code) == name


@pytest.mark.parametrize(
    ("function", "bad"), [(channel_code, "考试"), (channel_code, "review"), (channel_name, "评审")]
)
def test_unknown_channel(function: object, bad: str) -> None:
    with pytest.raises(TitleDataError) as caught:
        function(bad)  # type: ignore[operator]
    assert caught.value.code == "invalid_channel"


# --- the bundled data ----------------------------------------------------------------------------------


def _shared_data_file() -> Path | None:
    env = os.environ.get("TITLECRED_SHARED_DIR")
    root = Path(env) if env else Path(__file__).resolve().parents[3] / "shared"
    path = root / "data" / "title_series.json"
    return path if path.is_file() else None


def test_bundled_data_is_the_shared_file_byte_for_byte() -> None:
    shared = _shared_data_file()
    if shared is None:
        pytest.skip("the shared/ reference folder is not beside the repository")
    bundled = (resources.files("schemas") / "data" / "title_series.json").read_bytes()
    assert bundled == shared.read_bytes()


def test_data_is_loaded_once() -> None:
    assert title_data() is title_data()


def test_series_names() -> None:
    names = series_names()
    assert names[:5] == [
        "高等学校教师",
        "哲学社会科学研究人员",
        "自然科学研究人员",
        "卫生技术人员",
        ENGINEERING,
    ]
    assert len(names) == len(set(names)) == 30
    names.append("changed")  # the caller gets a copy
    assert "changed" not in series_names()


def test_qualifications_for() -> None:
    assert qualifications_for(ENGINEERING, "副高级") == ["高级工程师"]
    assert qualifications_for(ENGINEERING, "员级") == ["技术员"]
    # Tracks merge, in data order, names as listed.
    assert qualifications_for("卫生技术人员", "中级") == [
        "主治（主管）医师",
        "主管药师",
        "主管护师",
        "主管技师",
    ]
    assert qualifications_for("会计人员", "员级") == []  # 会计员 was dropped in 2019
    assert qualifications_for("不存在的系列", "中级") == []
    with pytest.raises(TitleDataError) as caught:
        qualifications_for(ENGINEERING, "高级")
    assert caught.value.code == "invalid_level"


def test_short_series_names_resolve() -> None:
    assert resolve_series("工程") == ENGINEERING
    assert resolve_series(" 工程技术人员 ") == ENGINEERING
    assert resolve_series("卫生") == "卫生技术人员"
    assert resolve_series("实验") == "实验技术人才"
    assert resolve_series("党校(行政学院)教师") == "党校（行政学院）教师"
    assert resolve_series("工") is None
    assert resolve_series("教师") is None
    assert qualifications_for("工程", "中级") == ["工程师"]


# --- check_qualification -----------------------------------------------------------------------------


def test_senior_engineer_is_known() -> None:
    check = check_qualification(ENGINEERING, "副高级", "高级工程师")
    assert check == TitleCheck(True, check.message)
    assert "副高级" in check.message and ENGINEERING in check.message
    assert check_qualification("工程", "副高级", "高级工程师").known


def test_wrong_level_names_the_expected_level() -> None:
    check = check_qualification(ENGINEERING, "中级", "高级工程师")
    assert not check.known
    assert check.expected_levels == ("副高级",)
    assert "副高级" in check.message and "中级" in check.message


def test_qualification_from_another_series() -> None:
    check = check_qualification("卫生技术人员", "副高级", "高级工程师")
    assert not check.known
    assert check.expected_levels == ()
    assert ENGINEERING in check.message


def test_unknown_combinations_are_findings_not_errors() -> None:
    unknown_series = check_qualification("航天员", "中级", "工程师")
    assert not unknown_series.known and "航天员" in unknown_series.message
    assert ENGINEERING in unknown_series.message  # where 工程师 is listed

    unknown_name = check_qualification(ENGINEERING, "正高级", "教授级高级工程师")
    assert not unknown_name.known
    assert "正高级工程师" in unknown_name.message  # what the data lists there

    nothing_at_level = check_qualification("会计人员", "员级", "会计员")
    assert not nothing_at_level.known and "nothing" in nothing_at_level.message

    assert not check_qualification(ENGINEERING, "中级", "  ").known


def test_unknown_level_is_an_error() -> None:
    with pytest.raises(TitleDataError) as caught:
        check_qualification(ENGINEERING, "高级", "高级工程师")
    assert caught.value.code == "invalid_level"


@pytest.mark.parametrize(
    ("series", "level", "qualification"),
    [
        ("卫生技术人员", "中级", "主治（主管）医师"),
        ("卫生技术人员", "中级", "主治(主管)医师"),
        ("卫生技术人员", "中级", "主治医师"),
        ("卫生技术人员", "中级", "主管医师"),
        ("船舶专业技术人员", "副高级", "船长/大副"),
        ("船舶专业技术人员", "副高级", "船长"),
        ("船舶专业技术人员", "副高级", "大副"),
        (ENGINEERING, "副高级", "高级 工程师"),
    ],
)
def test_name_variants_are_known(series: str, level: str, qualification: str) -> None:
    assert check_qualification(series, level, qualification).known


def test_unconfirmed_series_say_so() -> None:
    check = check_qualification("经济专业人员", "中级", "经济师")
    assert check.known and "unverified" in check.message
    assert "unverified" not in check_qualification(ENGINEERING, "中级", "工程师").message


def test_every_listed_name_is_known_at_its_level_only() -> None:
    raw = json.loads((resources.files("schemas") / "data" / "title_series.json").read_text(encoding="utf-8"))
    for series in raw["series"]:
        for track in series["tracks"]:
            for level, qualification in track["levels"].items():
                assert check_qualification(series["name"], level, qualification).known
                for other in LEVELS:
                    if other != level:
                        check = check_qualification(series["name"], other, qualification)
                        assert not check.known and check.expected_levels == (level,)


def test_title_check_is_frozen() -> None:
    check = check_qualification(ENGINEERING, "中级", "工程师")
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.known = False  # type: ignore[misc]


# --- a deployment's own data ---------------------------------------------------------------------------


def test_other_data_set() -> None:
    data = TitleData.from_mapping(
        {
            "series": [
                {
                    "name": "工程技术人员",
                    "status": "confirmed",
                    "tracks": [{"levels": {"副高级": "高级工程师"}}],
                },
                {"name": "工程专业人员", "tracks": [{"track": None, "levels": {"中级": "工程专员"}}]},
            ]
        }
    )
    assert data.series_names() == ["工程技术人员", "工程专业人员"]
    assert data.check_qualification("工程技术人员", "副高级", "高级工程师").known
    assert data.resolve_series("工程") is None  # short name shared by two series: ambiguous
    assert "unverified" in data.check_qualification("工程专业人员", "中级", "工程专员").message


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"series": {}},
        {"series": [{"tracks": []}]},
        {"series": [{"name": "x", "tracks": {}}]},
        {"series": [{"name": "x", "tracks": [{"levels": {"高级": "高级x"}}]}]},
        {"series": [{"name": "x", "tracks": [{"levels": {"中级": ""}}]}]},
        {"series": [{"name": "x", "tracks": []}, {"name": "x", "tracks": []}]},
    ],
)
def test_malformed_data_is_rejected(raw: object) -> None:
    with pytest.raises(TitleDataError) as caught:
        TitleData.from_mapping(raw)
    assert caught.value.code == "invalid_title_data"


# --- layering -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["titles", "identifiers"])
def test_imports_only_the_standard_library(module: str) -> None:
    source = (Path(titles_module.__file__).parent / f"{module}.py").read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            imported.add((node.module or "").split(".")[0])
    assert imported <= {
        "__future__",
        "collections",
        "dataclasses",
        "datetime",
        "functools",
        "importlib",
        "json",
        "string",
        "types",
        "typing",
        "unicodedata",
    }
