"""The canonicalization fast paths give exactly pyld's RDFC-1.0 output.

Two caches sit in front of pyld (proofs/canon.py, proofs/templates.py): a memo of processed scoped
contexts and N-Quads templates per document shape. Each is checked here against plain pyld on every
W3C vector and on generated title credentials with hostile strings.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import load_json
from core_support import make_bureau
from proofs import canon
from schemas.loader import DocumentLoader


def _plain(doc: dict[str, Any], loader: Any) -> str:
    canon.set_templates(False)
    canon.set_context_memo(False)
    try:
        return canon.canonize(doc, loader)
    finally:
        canon.set_templates(True)
        canon.set_context_memo(True)


@pytest.fixture(scope="module")
def loader(test_only_contexts: dict[str, Any]) -> DocumentLoader:
    return DocumentLoader(test_only_contexts)


def _vector_docs(w3c: Path) -> Iterator[dict[str, Any]]:
    for path in sorted((w3c / "vectors").rglob("*.json")):
        doc = load_json(path)
        if isinstance(doc, dict) and "@context" in doc and "keyPair" not in path.name:
            yield {k: v for k, v in doc.items() if k != "proof"}


def test_every_w3c_vector_canonicalizes_the_same_on_every_path(w3c: Path, loader: DocumentLoader) -> None:
    docs = list(_vector_docs(w3c))
    assert len(docs) >= 10
    for doc in docs:
        expected = _plain(doc, loader)
        assert canon.canonize(doc, loader) == expected  # first: builds the template
        assert canon.canonize(doc, loader) == expected  # second: uses it


SAFE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=SAFE_TEXT, unit=SAFE_TEXT, body=SAFE_TEXT, notes=st.lists(SAFE_TEXT, max_size=3),
       vm_suffix=st.sampled_from(["#key-1", "#key-2", "#k%20x", "#<bad>", " space"]),
       subject_id=st.one_of(st.none(), st.sampled_from(["did:example:abc", "urn:uuid:1", "not an iri",
                                                         "tc:alias", "_:b9"])))
def test_generated_title_credentials_canonicalize_like_pyld(name: str, unit: str, body: str, notes: list[str],
                                                            vm_suffix: str, subject_id: str | None) -> None:
    loader = DocumentLoader()
    doc = copy.deepcopy(_TEMPLATE_DOC)
    subject = doc["credentialSubject"]
    subject["name"], subject["reportingUnit"], subject["reviewBody"] = name, unit, body
    if notes:
        subject["annotations"] = notes
    if subject_id is not None:
        subject["id"] = subject_id
    doc["credentialSchema"]["id"] = "https://w3id.org/titlecred/schemas/x" + vm_suffix
    try:
        expected = _plain(doc, loader)
    except Exception as e:  # pyld refuses it: the fast path must refuse it the same way
        with pytest.raises(type(e)):
            canon.canonize(doc, loader)
        return
    assert canon.canonize(doc, loader) == expected
    assert canon.canonize(doc, loader) == expected


_TEMPLATE_DOC = {k: v for k, v in make_bureau().issue().full.items() if k != "proof"}


def test_a_context_that_redefines_an_iri_scheme_never_takes_the_fast_path() -> None:
    evil = {"@context": {"did": "https://evil.example/ns#"}}
    loader = DocumentLoader({"https://evil.example/ctx": evil})
    doc = {"@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx"],
           "type": ["VerifiableCredential"], "issuer": "did:example:1",
           "credentialSubject": {"id": "did:example:2"}}
    expected = _plain(doc, loader)
    assert "https://evil.example/ns#example:2" in expected
    assert canon.canonize(doc, loader) == expected
    doc2 = copy.deepcopy(doc)
    doc2["credentialSubject"]["id"] = "did:example:3"
    assert canon.canonize(doc2, loader) == _plain(doc2, loader)


def test_duplicate_values_collapse_as_in_rdf() -> None:
    loader = DocumentLoader()
    doc = copy.deepcopy(_TEMPLATE_DOC)
    doc["credentialSubject"]["annotations"] = ["a", "b"]
    canon.canonize(doc, loader)
    doc["credentialSubject"]["annotations"] = ["same", "same"]
    assert canon.canonize(doc, loader) == _plain(doc, loader)


# Keyword-valued strings: the template must never put a placeholder where JSON-LD expects a keyword
# value (@language, @direction, a value object's @type, @id) and surface pyld's complaint about it;
# any failure of the fast path falls back to pyld, whose result (or error) is the only one that counts.
KEYWORD_VALUES = st.sampled_from(["ltr", "rtl", "en", "zh-Hans-CN", "", "sideways", "not a tag", "did:example:x",
                                  "https://example.org/t", "urn:uuid:1", "_:b0", "xsd:string", "@json"])
EXAMPLES = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"]


@settings(max_examples=150, deadline=None)
@given(text=SAFE_TEXT, language=KEYWORD_VALUES, direction=KEYWORD_VALUES, value_type=KEYWORD_VALUES,
       odd_id=KEYWORD_VALUES, shape=st.integers(0, 4))
def test_keyword_valued_strings_canonicalize_like_pyld(text: str, language: str, direction: str,
                                                       value_type: str, odd_id: str, shape: int) -> None:
    loader = DocumentLoader()
    value: dict[str, Any]
    if shape == 0:
        value = {"@value": text, "@language": language}
    elif shape == 1:
        value = {"@value": text, "@language": language, "@direction": direction}
    elif shape == 2:
        value = {"@value": text, "@direction": direction}
    elif shape == 3:
        value = {"@value": text, "@type": value_type}
    else:
        value = {"@id": odd_id}
    doc = {"@context": EXAMPLES, "type": ["VerifiableCredential"], "issuer": "did:example:issuer",
           "name": value, "credentialSubject": {"id": odd_id if shape == 4 else "did:example:s", "note": value}}
    try:
        expected = _plain(doc, loader)
    except Exception as e:
        with pytest.raises(type(e)):
            canon.canonize(doc, loader)
        with pytest.raises(type(e)):
            canon.canonize(doc, loader)
        return
    assert canon.canonize(doc, loader) == expected
    assert canon.canonize(doc, loader) == expected


def test_a_direction_is_never_reported_as_a_canonicalization_error() -> None:
    # The W3C VC DM suite's case: the template once replaced "ltr" by a placeholder and pyld refused it.
    loader = DocumentLoader()
    doc = {"@context": EXAMPLES, "type": ["VerifiableCredential"], "issuer": "did:example:issuer",
           "name": {"@value": "شهادة", "@language": "ar", "@direction": "rtl"},
           "credentialSubject": {"id": "did:example:s", "name": {"@value": "Alice", "@direction": "ltr"}}}
    assert canon.canonize(doc, loader) == _plain(doc, loader)
    doc["credentialSubject"]["name"]["@value"] = "Bob"
    assert canon.canonize(doc, loader) == _plain(doc, loader)


def test_a_base_direction_is_signed_as_an_i18n_datatype_like_jsonld_js() -> None:
    # Dropping @direction would leave it unsigned; jsonld.js (vc.js) uses rdfDirection "i18n-datatype"
    # with the language lowercased, and so do we.
    loader = DocumentLoader()
    doc = {"@context": EXAMPLES, "type": ["VerifiableCredential"], "issuer": "did:example:issuer",
           "name": {"@value": "x", "@language": "zh-Hant-TW", "@direction": "rtl"},
           "credentialSubject": {"id": "did:example:s"}}
    assert '"x"^^<https://www.w3.org/ns/i18n#zh-hant-tw_rtl>' in canon.canonize(doc, loader)
    doc["name"] = {"@value": "y", "@direction": "ltr"}
    assert '"y"^^<https://www.w3.org/ns/i18n#_ltr>' in canon.canonize(doc, loader)
