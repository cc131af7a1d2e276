"""Certificate numbers: level letter, issuer region, year, sequence — unique and without gaps.

Format: `L RRRRRR YYYY SSSSSS`, e.g. `B1401022026000123`: L the level letter (A 正高级 … E 员级), RRRRRR
the bureau's 6-digit region code, YYYY the year of issue (China Standard Time), SSSSSS the sequence.
The sequence counts per region and year, across levels: one counter per year keeps the numbers of a
year in issuing order whatever the level, and the letter already tells the level.

Gapless under concurrency: the number is taken from a counter row locked for the issuing transaction
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's BEGIN IMMEDIATE serializes writers). If the
issuance fails, its transaction rolls back and the counter with it: the number is given back.
Never allocate a number outside the transaction that stores the certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from titlecred.db.models import NumberCounter
from titlecred.services.errors import Conflict
from titlecred.services.tx import insert_ignore, locked

MAX_SEQ = 999_999


@dataclass(frozen=True)
class Number:
    text: str
    region_code: str
    year: int
    seq: int


def format_number(letter: str, region_code: str, year: int, seq: int) -> str:
    return f"{letter}{region_code}{year:04d}{seq:06d}"


def allocate(session: Session, *, letter: str, region_code: str, year: int) -> Number:
    """Take the next number inside the caller's transaction (never commits)."""
    insert_ignore(session, NumberCounter, {"region_code": region_code, "year": year, "next_seq": 1})
    counter = locked(session, select(NumberCounter).where(NumberCounter.region_code == region_code,
                                                         NumberCounter.year == year))
    assert counter is not None
    seq = counter.next_seq
    if seq > MAX_SEQ:
        raise Conflict("sequence_exhausted", f"all {MAX_SEQ} certificate numbers of {region_code}/{year} are used")
    counter.next_seq = seq + 1
    session.add(counter)
    return Number(format_number(letter, region_code, year, seq), region_code, year, seq)
