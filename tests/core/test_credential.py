"""The professional title credential: facts, forms, and the rules checked before anything is signed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pyld import jsonld

from core_support import RECORD, make_bureau, record
from issuer.errors import InvalidRecord
from issuer.record import parse_record
from schemas.loader import default_loader


def test_full_credential_carries_every_fact_of_the_record() -> None:
    pair = make_bureau().issue()
    subject = pair.full["credentialSubject"]
    for key, value in RECORD.items():
        assert subject[key] == value
    assert subject["levelCode"] == "B"
    assert pair.full["type"] == ["VerifiableCredential", "ProfessionalTitleCredential"]
    assert pair.full["issuer"] == {"id": "did:web:hrss.example.gov.cn", "name": "示例市人力资源和社会保障局",
                                   "unitCode": "11100000000013338W"}
    assert pair.full["credentialSchema"]["type"] == "JsonSchema"


def test_minimal_form_masks_the_id_number_and_links_the_full_credential() -> None:
    pair = make_bureau().issue()
    minimal = pair.minimal
    assert minimal["credentialSubject"]["idNumberMasked"] == "110***********0418"
    assert "idNumber" not in minimal["credentialSubject"]
    assert RECORD["idNumber"] not in json.dumps(minimal, ensure_ascii=False)
    assert minimal["fullCredential"] == pair.full["id"]
    assert minimal["id"] != pair.full["id"]
    assert "MinimalTitleCredential" in minimal["type"]
    assert minimal["proof"]["proofValue"] != pair.full["proof"]["proofValue"]


def _expanded_iris(doc: dict[str, Any]) -> set[str]:
    unsigned = {k: v for k, v in doc.items() if k != "proof"}
    expanded = jsonld.expand(unsigned, {"documentLoader": default_loader()})
    iris: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict):
            for k, v in node.items():
                if not k.startswith("@"):
                    iris.add(k)
                if k == "@type":
                    iris.update(v if isinstance(v, list) else [v])
                walk(v)

    walk(expanded)
    return iris


@pytest.mark.parametrize("form", ["full", "minimal"])
def test_every_term_is_defined_by_a_context_never_by_vocab(form: str) -> None:
    pair = make_bureau().issue(annotations=["自主评审"], scopeOfUse="仅限非公有制经济组织内有效",
                               reissueOf="urn:uuid:6f1c1c2e-9a55-4bb0-9a4e-3f1d8e0b1a11")
    iris = _expanded_iris(getattr(pair, form))
    assert not [i for i in iris if "issuer-dependent" in i], "a term fell through to @vocab"
    assert "https://w3id.org/titlecred#qualification" in iris


def test_rare_characters_round_trip_exactly() -> None:
    bureau = make_bureau()
    pair = bureau.issue(name="王𠀾𪚥")
    assert pair.full["credentialSubject"]["name"] == "王𠀾𪚥"
    text = json.dumps(pair.full, ensure_ascii=False)
    assert json.loads(text)["credentialSubject"]["name"] == "王𠀾𪚥"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": "\uf900明"}, "not_nfc", "name"),  # U+F900, a compatibility ideograph: NFC maps it to U+8C48
        ({"idNumber": "110105198503120419"}, "invalid_id_number", "idNumber"),
        ({"idNumber": "11010519850230041X"}, "invalid_id_number", "idNumber"),
        ({"dateQualified": "2023-02-30"}, "invalid_date", "dateQualified"),
        ({"dateQualified": "2999-01-01"}, "invalid_date", "dateQualified"),
        ({"level": "特级"}, "invalid_level", "level"),
        ({"reviewChannel": "买的"}, "invalid_channel", "reviewChannel"),
        ({"certificateNumber": "C2024110100001"}, "invalid_certificate_number", "certificateNumber"),
        ({"gender": "M"}, "invalid_field", "gender"),
        ({"name": ""}, "missing_field", "name"),
        ({"nickname": "小明"}, "unknown_field", "nickname"),
        ({"name": "李\u0000明"}, "invalid_field", "name"),
    ],
)
def test_bad_records_are_refused_with_a_stable_code(changes: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(InvalidRecord) as err:
        parse_record(record(**changes))
    assert err.value.code == code
    assert err.value.field == field


def test_error_messages_never_repeat_the_id_number() -> None:
    bad = "110105198503120419"
    with pytest.raises(InvalidRecord) as err:
        parse_record(record(idNumber=bad))
    assert bad not in str(err.value)
    assert bad[:-1] not in str(err.value)


def test_pinyin_must_be_latin_letters() -> None:
    with pytest.raises(InvalidRecord) as err:
        make_bureau().issue(namePinyin="李晓明")
    assert err.value.code == "schema_violation"


def test_reissue_names_the_credential_it_replaces() -> None:
    old = make_bureau().issue()
    new = make_bureau().issue(reissueOf=old.full["id"])
    assert new.full["reissueOf"] == old.full["id"]
    assert new.minimal["reissueOf"] == old.full["id"]
