"""Title levels, review channels and the series → level → qualification reference data.

What it is for: the fixed national vocabulary a certificate uses (the five levels and the letter that
leads a certificate number, the channels through which a title is acquired), and a plausibility check
that a qualification (资格名称, e.g. 高级工程师) fits its series (系列) and level, for forms and for
issuance warnings.

What it must never do:
- treat the series data as authoritative. `data/title_series.json` is research data (each series says
  how well it is confirmed) and a deployment replaces it with its province's list, so a combination the
  data does not know is reported (`TitleCheck.known == False`), never raised. Only the closed national
  sets (levels, channels) raise `TitleDataError`;
- import anything else of TitleCred, touch the network or mutate the loaded data (it is read once,
  cached and shared).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

__all__ = [
    "CHANNELS",
    "LEVELS",
    "TitleCheck",
    "TitleData",
    "TitleDataError",
    "channel_code",
    "channel_name",
    "check_qualification",
    "level_from_letter",
    "level_letter",
    "level_rank",
    "qualifications_for",
    "resolve_series",
    "series_names",
    "title_data",
]


class TitleDataError(ValueError):
    """A level or channel outside the national set, or an unreadable title data file.

    `code` is stable and machine-readable: `invalid_level`, `invalid_channel` or `invalid_title_data`.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- Levels -------------------------------------------------------------------------------------------

# Highest first. The letter leads the certificate number (Tianjin: A 正高级 … E 员级).
LEVELS: Final[Mapping[str, str]] = MappingProxyType(
    {"正高级": "A", "副高级": "B", "中级": "C", "助理级": "D", "员级": "E"}
)
_LEVEL_BY_LETTER: Final[Mapping[str, str]] = MappingProxyType({v: k for k, v in LEVELS.items()})
# 正高级 5 … 员级 1: a larger rank is a higher title, so max(levels, key=level_rank) is the one kept
# when only the highest title is converted (Ningxia paper conversion).
_LEVEL_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {level: len(LEVELS) - index for index, level in enumerate(LEVELS)}
)


def _level(level: str) -> str:
    """The level name itself, or `TitleDataError(invalid_level)`; surrounding whitespace is forgiven."""
    name = level.strip() if isinstance(level, str) else level
    if name not in LEVELS:
        raise TitleDataError(
            "invalid_level", f"unknown title level {level!r}; expected one of {', '.join(LEVELS)}"
        )
    return name


def level_letter(level: str) -> str:
    """The certificate-number letter of a level: 正高级 → "A" … 员级 → "E"."""
    return LEVELS[_level(level)]


def level_from_letter(letter: str) -> str:
    """The level a certificate-number letter stands for: "A" → 正高级 … "E" → 员级 (case-insensitive)."""
    # isascii() first: upper() of other scripts could map to an ASCII letter.
    key = letter.strip().upper() if isinstance(letter, str) and letter.isascii() else ""
    level = _LEVEL_BY_LETTER.get(key)
    if level is None:
        raise TitleDataError(
            "invalid_level", f"unknown level letter {letter!r}; expected one of {', '.join(_LEVEL_BY_LETTER)}"
        )
    return level


def level_rank(level: str) -> int:
    """5 for 正高级 down to 1 for 员级: compare titles, keep the highest."""
    return _LEVEL_RANK[_level(level)]


# --- Channels -----------------------------------------------------------------------------------------

# How the title was acquired; the code is what credentials and the API carry.
CHANNELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "评审": "review",
        "自主评审": "self_review",
        "自主聘任": "self_appointment",
        "以考代评": "exam",
        "委托评审": "entrusted_review",
        "换证": "conversion",  # an existing paper certificate converted to an electronic one
    }
)
_CHANNEL_BY_CODE: Final[Mapping[str, str]] = MappingProxyType({v: k for k, v in CHANNELS.items()})


def channel_code(name: str) -> str:
    """The code of a channel name: 评审 → "review", 换证 → "conversion", …"""
    key = name.strip() if isinstance(name, str) else name
    if key not in CHANNELS:
        raise TitleDataError(
            "invalid_channel", f"unknown review channel {name!r}; expected one of {', '.join(CHANNELS)}"
        )
    return CHANNELS[key]


def channel_name(code: str) -> str:
    """The channel name of a code: "review" → 评审, "conversion" → 换证, …"""
    key = code.strip() if isinstance(code, str) else code
    if key not in _CHANNEL_BY_CODE:
        raise TitleDataError(
            "invalid_channel",
            f"unknown review channel code {code!r}; expected one of {', '.join(_CHANNEL_BY_CODE)}",
        )
    return _CHANNEL_BY_CODE[key]


# --- Series data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TitleCheck:
    """The outcome of `check_qualification`: never an error, a finding to show or log.

    `known` is True only when the data lists the qualification under that series and level.
    `expected_levels` names the level(s) the data lists the qualification under in that series when it
    was given with another level (高级工程师 as 中级 → ("副高级",)); empty otherwise.
    """

    known: bool
    message: str
    expected_levels: tuple[str, ...] = ()


def _fold(text: str) -> str:
    """Comparison form: NFKC (full-width brackets and letters → ASCII) without any whitespace.

    Records typed by hand write 主治(主管)医师 or "高级 工程师"; both mean the listed name.
    """
    return "".join(unicodedata.normalize("NFKC", text).split())


def _name_variants(name: str) -> set[str]:
    """Folded forms a listed qualification name may be written in.

    The data writes alternatives two ways: "船长/大副" (either name) and "主治（主管）医师", where the
    bracketed text replaces as many characters before it (主治医师 or 主管医师). The name exactly as
    listed always matches too.
    """
    folded = _fold(name)
    variants = {folded}
    for part in folded.split("/"):
        if not part:
            continue
        variants.add(part)
        open_at, close_at = part.find("("), part.find(")")
        if 0 <= open_at < close_at:
            before, inner, after = part[:open_at], part[open_at + 1 : close_at], part[close_at + 1 :]
            variants.add(before + after)
            if inner and len(inner) <= len(before):
                variants.add(before[: len(before) - len(inner)] + inner + after)
    return variants


# Suffixes dropped to get a series' short name: certificates print 系列 "工程" for 工程技术人员.
_SERIES_SUFFIXES: Final = ("专业技术人员", "技术人员", "专业人员", "技术人才", "人员", "人才")


def _short_name(folded: str) -> str | None:
    for suffix in _SERIES_SUFFIXES:
        if folded.endswith(suffix) and len(folded) > len(suffix):
            return folded[: -len(suffix)]
    return None


@dataclass(frozen=True)
class _Series:
    name: str
    status: str
    # level → qualification names as listed, in data order, without duplicates
    levels: Mapping[str, tuple[str, ...]]
    # folded variant → levels listing it
    lookup: Mapping[str, frozenset[str]]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise TitleDataError("invalid_title_data", f"title data: {message}")


def _parse_series(raw: Any, position: int) -> _Series:
    _require(isinstance(raw, Mapping), f"series {position} is not an object")
    name = raw.get("name")
    _require(isinstance(name, str) and bool(name.strip()), f"series {position} has no name")
    status = raw.get("status", "unverified")
    _require(isinstance(status, str), f"series {name} has a non-text status")
    tracks = raw.get("tracks")
    _require(isinstance(tracks, list), f"series {name} has no list of tracks")
    by_level: dict[str, list[str]] = {level: [] for level in LEVELS}
    lookup: dict[str, set[str]] = {}
    for track in tracks:
        _require(
            isinstance(track, Mapping) and isinstance(track.get("levels"), Mapping),
            f"series {name} has a track without levels",
        )
        for level, qualification in track["levels"].items():
            _require(level in LEVELS, f"series {name} uses unknown level {level!r}")
            _require(
                isinstance(qualification, str) and bool(qualification.strip()),
                f"series {name} has an empty qualification at {level}",
            )
            if qualification not in by_level[level]:
                by_level[level].append(qualification)
            for variant in _name_variants(qualification):
                lookup.setdefault(variant, set()).add(level)
    return _Series(
        name=name,
        status=status,
        levels=MappingProxyType({level: tuple(names) for level, names in by_level.items()}),
        lookup=MappingProxyType({variant: frozenset(levels) for variant, levels in lookup.items()}),
    )


def _in_level_order(levels: Iterable[str]) -> tuple[str, ...]:
    wanted = set(levels)
    return tuple(level for level in LEVELS if level in wanted)


@dataclass(frozen=True)
class TitleData:
    """One parsed title data set. The module functions use the bundled one (`title_data()`);
    build another with `TitleData.from_mapping` to check against a province's own list."""

    series: Mapping[str, _Series]
    # folded full name or unambiguous short name → series name as listed
    _aliases: Mapping[str, str] = field(repr=False)

    @classmethod
    def from_mapping(cls, raw: Any) -> TitleData:
        """Parse the JSON structure of `data/title_series.json`; `TitleDataError` if it is malformed."""
        _require(isinstance(raw, Mapping) and isinstance(raw.get("series"), list), "no 'series' list")
        series: dict[str, _Series] = {}
        for position, item in enumerate(raw["series"], start=1):
            parsed = _parse_series(item, position)
            _require(parsed.name not in series, f"series {parsed.name} is listed twice")
            series[parsed.name] = parsed
        aliases: dict[str, str] = {_fold(name): name for name in series}
        short_owners: dict[str, set[str]] = {}
        for name in series:
            short = _short_name(_fold(name))
            if short:
                short_owners.setdefault(short, set()).add(name)
        for short, owners in short_owners.items():
            # A short name shared by two series, or equal to another series' full name, means nothing.
            if len(owners) == 1 and short not in aliases:
                aliases[short] = next(iter(owners))
        return cls(series=MappingProxyType(series), _aliases=MappingProxyType(aliases))

    def resolve_series(self, name: str) -> str | None:
        """The series name as the data lists it, for that name or its short form (工程 → 工程技术人员)."""
        if not isinstance(name, str):
            return None
        return self._aliases.get(_fold(name))

    def series_names(self) -> list[str]:
        return list(self.series)

    def qualifications_for(self, series: str, level: str) -> list[str]:
        """Qualification names listed for a series and level, as listed; [] if the data has none."""
        level = _level(level)
        resolved = self.resolve_series(series)
        return list(self.series[resolved].levels[level]) if resolved else []

    def _listed_elsewhere(self, folded: str, skip: str | None) -> list[str]:
        found = []
        for entry in self.series.values():
            if entry.name != skip and folded in entry.lookup:
                found.append(f"{entry.name} ({'/'.join(_in_level_order(entry.lookup[folded]))})")
        return found

    def check_qualification(self, series: str, level: str, qualification: str) -> TitleCheck:
        """Does the data list `qualification` under `series` at `level`? See `TitleCheck`.

        Only an unknown level raises (`TitleDataError`, code `invalid_level`): levels are a closed
        national set, whereas series and names vary by province and year.
        """
        level = _level(level)
        folded = _fold(qualification) if isinstance(qualification, str) else ""
        if not folded:
            return TitleCheck(False, "no qualification name given")
        resolved = self.resolve_series(series)
        if resolved is None:
            elsewhere = self._listed_elsewhere(folded, None)
            hint = f"; the data lists {qualification} under {', '.join(elsewhere)}" if elsewhere else ""
            return TitleCheck(False, f"series {series!r} is not in the title data{hint}")
        entry = self.series[resolved]
        listed = entry.lookup.get(folded, frozenset())
        caveat = "" if entry.status == "confirmed" else f" (the data for this series is {entry.status})"
        if level in listed:
            return TitleCheck(True, f"{qualification} is a {level} title of {resolved}{caveat}")
        if listed:
            expected = _in_level_order(listed)
            return TitleCheck(
                False,
                f"{qualification} is {'/'.join(expected)} in {resolved}, not {level}{caveat}",
                expected_levels=expected,
            )
        elsewhere = self._listed_elsewhere(folded, resolved)
        if elsewhere:
            listed_under = ", ".join(elsewhere)
            return TitleCheck(
                False, f"{qualification} is not listed in {resolved}; the data lists it under {listed_under}"
            )
        at_level = entry.levels[level]
        choices = (
            f"; it lists {', '.join(at_level)} at {level}" if at_level else f"; it lists nothing at {level}"
        )
        return TitleCheck(False, f"{qualification} is not in the title data for {resolved}{choices}{caveat}")


@lru_cache(maxsize=1)
def title_data() -> TitleData:
    """The bundled data set (`schemas/data/title_series.json`), parsed on first use and then shared."""
    text = (resources.files("schemas") / "data" / "title_series.json").read_text(encoding="utf-8")
    return TitleData.from_mapping(json.loads(text))


def resolve_series(name: str) -> str | None:
    """The bundled data's name for a series or its short form (工程 → 工程技术人员); None if unknown."""
    return title_data().resolve_series(name)


def series_names() -> list[str]:
    """Series names in data order (the 2021 MOHRSS order first)."""
    return title_data().series_names()


def qualifications_for(series: str, level: str) -> list[str]:
    """Qualification names the bundled data lists for a series (or its short form) and a level.

    [] when the series is unknown or has nothing at that level; `TitleDataError` for an unknown level.
    """
    return title_data().qualifications_for(series, level)


def check_qualification(series: str, level: str, qualification: str) -> TitleCheck:
    """Check a qualification against the bundled data; see `TitleData.check_qualification`."""
    return title_data().check_qualification(series, level, qualification)
