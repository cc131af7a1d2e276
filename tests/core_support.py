"""Builders shared by the credential-core tests: a real issuer key, records, a trusting policy."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from issuer.credential import IssuerProfile
from issuer.record import parse_record
from issuer.sign import IssuedPair, IssuerKey, issue_pair
from keys.did import DidResolver
from keys.material import SigningKey
from keys.publish import build_did_document
from keys.state import KeyRecord, KeyState
from verifier.policy import Policy

DID = "did:web:hrss.example.gov.cn"
RECORD: dict[str, Any] = {
    "name": "李晓明",
    "namePinyin": "Li Xiaoming",
    "gender": "男",
    "idNumber": "110105198503120418",
    "reportingUnit": "示例市住房和城乡建设局",
    "qualification": "高级工程师",
    "series": "工程技术",
    "specialty": "建筑工程",
    "level": "副高级",
    "reviewBody": "示例市工程技术高级职称评审委员会",
    "reviewChannel": "评审",
    "dateQualified": "2024-10-28",
    "certificateNumber": "B2024110100001",
}


def record(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(RECORD)
    out.update(changes)
    return out


@dataclass
class Bureau:
    """A bureau with one real Ed25519 key, its DID document, and a policy that trusts it."""

    key: SigningKey
    record: KeyRecord
    profile: IssuerProfile

    @property
    def issuer_key(self) -> IssuerKey:
        return IssuerKey(self.record.key_id, self.key.sign)

    def did_document(self, records: list[KeyRecord] | None = None) -> dict[str, Any]:
        return build_did_document(self.profile.did, records or [self.record])

    def policy(self, **kw: Any) -> Policy:
        docs = [self.did_document(kw.pop("records", None))]
        return Policy(resolver=DidResolver(docs), **kw)

    def issue(self, now: datetime | None = None, **changes: Any) -> IssuedPair:
        return issue_pair(parse_record(record(**changes)), self.profile, self.issuer_key,
                          now=now or datetime(2026, 11, 1, 8, 0, 0, tzinfo=UTC))


def make_bureau(key: SigningKey | None = None, key_id: str = "key-1") -> Bureau:
    key = key or SigningKey.generate()
    rec = KeyRecord(key_id=f"{DID}#{key_id}", controller=DID, public_key_multibase=key.public_key.multibase,
                    state=KeyState.ACTIVE, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    return Bureau(key, rec, IssuerProfile(DID, "示例市人力资源和社会保障局", "11100000000013338W"))
