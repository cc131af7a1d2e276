"""Approved applications in bulk, for the batch benchmark and the batch fault tests (not used by the service).

Each is a valid review-channel application at the bureau's stage, approved, with its own person (a
valid GB 11643 ID number made from its position), written with bulk inserts so that seeding 100,000
takes seconds and is not what a benchmark measures.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from schemas.identifiers import gender_from_id, resident_id_check_char
from titlecred.db.models import Application, Person
from titlecred.services import orgs
from titlecred.services.context import Registry
from titlecred.services.persons import id_lookup_hash
from titlecred.services.tx import atomic

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚"


def resident_id(k: int) -> str:
    """A valid ID number, different for each k < 36,500,000 (birth date and sequence from k)."""
    day, seq = divmod(k, 1000)
    year, doy = 1960 + day // 336, day % 336
    first17 = f"110105{year:04d}{doy // 28 + 1:02d}{doy % 28 + 1:02d}{seq:03d}"
    return first17 + resident_id_check_char(first17)


def facts(k: int, name: str) -> dict[str, Any]:
    return {"name": name, "namePinyin": "Wang Wei", "gender": gender_from_id(resident_id(k)),
            "reportingUnit": "示例市住房和城乡建设局", "qualification": "高级工程师", "series": "工程技术",
            "specialty": "结构工程", "level": "副高级", "dateQualified": "2025-11-20",
            "reviewBody": "示例市工程技术高级职称评审委员会", "reviewChannel": "评审"}


def seed_approved(session: Session, registry: Registry, n: int, *, start: int = 0, chunk: int = 5000) -> list[int]:
    """`n` approved applications (persons `start`..`start+n-1`); their ids."""
    bureau = orgs.bureau(session)
    now = registry.now()
    chain = json.dumps([{"stage": "bureau", "orgId": bureau.id}])
    ids: list[int] = []
    for base in range(start, start + n, chunk):
        ks = range(base, min(base + chunk, start + n))
        with atomic(session):
            people = []
            for k in ks:
                number = resident_id(k)
                name = SURNAMES[k % len(SURNAMES)] + GIVEN[(k // 20) % len(GIVEN)]
                people.append({"id_hmac": id_lookup_hash(registry.config, number), "id_number": number,
                               "name": name, "name_pinyin": "Wang Wei", "gender": gender_from_id(number),
                               "created_at": now})
            session.execute(insert(Person), people)
            hmacs = [p["id_hmac"] for p in people]
            pid = dict(session.exec(select(Person.id_hmac, Person.id).where(col(Person.id_hmac).in_(hmacs))).all())
            apps = [{"channel": "review", "state": "approved", "chain_json": chain, "stage_index": 0,
                     "stage_org_id": None, "person_id": pid[str(p["id_hmac"])],
                     "facts_json": json.dumps(facts(k, str(p["name"])), ensure_ascii=False),
                     "created_at": now, "updated_at": now} for k, p in zip(ks, people, strict=True)]
            ids.extend(session.execute(insert(Application).returning(col(Application.id),
                                                                     sort_by_parameter_order=True), apps).scalars())
    return ids
