"""The vc.js interop harness (tests/interop) against the W3C eddsa-rdfc-2022 test vectors.

An independent implementation -- Digital Bazaar's vc.js in its strict default mode (safe-mode
RDFC-1.0, CredentialIssuancePurpose: the key must be under ``assertionMethod`` of its controller and
the issuer must be that controller) -- is run on the W3C vectors, so that the harness itself is known
to answer truly before it is pointed at TitleCred's own credentials.

What is true of the vectors (and asserted here): both W3C signed vectors carry a valid Ed25519
signature, but vc.js rejects them, and only on the controller check -- their issuers
("https://vc.example/issuers/5678", and for ``employ`` the P-256 ``did:key:zDnae...``) are not the
controller of the Ed25519 did:key that signed them. Re-signed by vc.js with the issuer set to that
did:key, they verify.

All vc.js work runs in two batched node processes (module fixtures), ~0.3 s of start-up each.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from interop.vcjs import (  # noqa: E402
    VcjsHarnessError,
    ensure_installed,
    load_w3c_contexts,
    vcjs_batch,
    vcjs_request,
    vcjs_versions,
)

if shutil.which("node") is None:
    pytest.skip(
        "Node.js not found: `node` is not on PATH, so the vc.js interop tests cannot run "
        "(scripts/setup --dev installs nodejs and npm)",
        allow_module_level=True,
    )

CREATED = "2023-02-24T23:36:38Z"  # the vectors' proof created
NOW = "2025-06-01T00:00:00Z"  # inside every credential's validity window, so tests do not age
CONTROLLER_ERROR = "Credential issuer must match the verification method controller."


def _shared_dir() -> Path:
    """shared/ lies beside the repository (CI: a fresh clone with shared/ beside it)."""
    env = os.environ.get("TITLECRED_SHARED_DIR")
    repo = TESTS.parent
    candidates = [Path(env)] if env else [repo / "tests" / "data"]
    for candidate in candidates:
        if (candidate / "w3c" / "vectors").is_dir():
            return candidate
    pytest.skip(f"the shared/ W3C reference folder was not found (looked in {[str(c) for c in candidates]})")


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class Vectors:
    def __init__(self, shared: Path) -> None:
        base = shared / "w3c" / "vectors" / "eddsa-rdfc-2022"
        self.contexts: dict[str, Any] = load_w3c_contexts(shared)
        self.did_doc: dict[str, Any] = _load(base / "controller-did-key.json")
        key = _load(base / "keyPair.json")
        self.public_mb: str = key["publicKeyMultibase"]
        self.secret_mb: str = key.get("secretKeyMultibase") or key["privateKeyMultibase"]
        self.did = f"did:key:{self.public_mb}"
        self.vm = f"{self.did}#{self.public_mb}"
        self.signed: dict[str, Any] = _load(base / "signedDataInt.json")
        self.unsigned: dict[str, Any] = _load(base / "unsigned.json")
        self.employ_signed: dict[str, Any] = _load(base / "employ" / "signedDataInt.json")
        self.employ_unsigned: dict[str, Any] = _load(base / "employ" / "employmentAuth.json")
        self.employ_key = _load(base / "employ" / "keyPair.json")

    def with_did(self) -> dict[str, Any]:
        """Contexts plus the vector key's did:key document (as a verifier would be handed it)."""
        return {**self.contexts, self.did: self.did_doc}

    def sign(
        self,
        credential: dict[str, Any],
        vm: str | None = None,
        controller: str | None = None,
        documents: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return {
            "op": "sign",
            "credential": credential,
            "secretKeyMultibase": self.secret_mb,
            "publicKeyMultibase": self.public_mb,
            "verificationMethod": vm or self.vm,
            "controller": controller or self.did,
            "created": CREATED,
            "documents": self.contexts if documents is None else documents,
        }


def _verify(credential: dict[str, Any], documents: dict[str, Any], now: str | None = NOW) -> dict[str, Any]:
    request: dict[str, Any] = {"op": "verify", "credential": credential, "documents": documents}
    if now is not None:
        request["now"] = now
    return request


def _tamper_subject(credential: dict[str, Any]) -> dict[str, Any]:
    """One character of credentialSubject changed (the last character of its first string value)."""
    out = copy.deepcopy(credential)
    subject = out["credentialSubject"]
    for key, value in subject.items():
        if key not in ("id", "type") and isinstance(value, str) and value:
            subject[key] = value[:-1] + ("X" if value[-1] != "X" else "Y")
            return out
    raise AssertionError("no string property to tamper with")


# a did:web issuer whose DID document the test hands over: what vc.js requires of it
WEB_DID = "did:web:issuer.titlecred.test"
WEB_VM = f"{WEB_DID}#key-1"


def _web_did_doc(
    public_mb: str, *, listed: bool = True, revoked: str | None = None, context: list[str] | None = None
) -> dict[str, Any]:
    method: dict[str, Any] = {
        "id": WEB_VM,
        "type": "Multikey",
        "controller": WEB_DID,
        "publicKeyMultibase": public_mb,
    }
    if revoked:
        method["revoked"] = revoked
    doc: dict[str, Any] = {
        "@context": context or ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": WEB_DID,
        "verificationMethod": [method],
        "authentication": [WEB_VM],
    }
    if listed:
        doc["assertionMethod"] = [WEB_VM]
    return doc


@pytest.fixture(scope="module")
def installed() -> None:
    ensure_installed()  # npm ci in tests/interop when node_modules is missing (~2 s)


@pytest.fixture(scope="module")
def vec(installed: None) -> Vectors:
    return Vectors(_shared_dir())


@pytest.fixture(scope="module")
def signed(vec: Vectors) -> dict[str, dict[str, Any]]:
    """Everything vc.js signs, in one node process."""
    alumni = copy.deepcopy(vec.unsigned)
    alumni["issuer"] = vec.did
    employ = copy.deepcopy(vec.employ_unsigned)
    employ["issuer"]["id"] = vec.did
    web = copy.deepcopy(vec.unsigned)
    web["issuer"] = WEB_DID
    # credentials/v2 alone has no @vocab (examples/v2 has one, which defines every term)
    undefined_term = copy.deepcopy(alumni)
    undefined_term["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    undefined_term["type"] = ["VerifiableCredential"]
    undefined_term["credentialSubject"] = {"id": "did:example:abcdefgh", "titleLevel": "senior"}
    defined_only = copy.deepcopy(undefined_term)
    defined_only["credentialSubject"] = {"id": "did:example:abcdefgh", "name": "senior"}
    employ_contexts = vec.contexts  # citizenship/v4rc1 is among shared/w3c/contexts
    requests = {
        "vector_as_is": vec.sign(copy.deepcopy(vec.unsigned)),
        "employ_as_is": vec.sign(copy.deepcopy(vec.employ_unsigned), documents=employ_contexts),
        "alumni_did_issuer": vec.sign(alumni),
        "employ_did_issuer": vec.sign(employ, documents=employ_contexts),
        "web_issuer": vec.sign(web, vm=WEB_VM, controller=WEB_DID),
        "undefined_term": vec.sign(undefined_term),
        "defined_only": vec.sign(defined_only),
    }
    responses = vcjs_batch(list(requests.values()))
    return dict(zip(requests, responses, strict=True))


@pytest.fixture(scope="module")
def verified(vec: Vectors, signed: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Everything vc.js verifies, in one node process."""
    alumni = signed["alumni_did_issuer"]["signed"]
    employ = signed["employ_did_issuer"]["signed"]
    web = signed["web_issuer"]["signed"]
    assert alumni and employ and web, {k: v.get("error") for k, v in signed.items()}
    defined_only = signed["defined_only"]["signed"]
    assert defined_only, signed["defined_only"]["error"]
    extra_term = copy.deepcopy(defined_only)
    extra_term["credentialSubject"]["titleLevel"] = "senior"
    no_examples = {
        u: d for u, d in vec.contexts.items() if u != "https://www.w3.org/ns/credentials/examples/v2"
    }
    requests = {
        "vector": _verify(vec.signed, vec.with_did()),
        "vector_did_key_driver": _verify(vec.signed, vec.contexts),
        "vector_tampered": _verify(_tamper_subject(vec.signed), vec.with_did()),
        "employ_vector": _verify(vec.employ_signed, vec.with_did()),
        "employ_vector_tampered": _verify(_tamper_subject(vec.employ_signed), vec.with_did()),
        "alumni": _verify(alumni, vec.with_did()),
        "alumni_did_key_driver": _verify(alumni, vec.contexts),
        "alumni_tampered": _verify(_tamper_subject(alumni), vec.with_did()),
        "employ": _verify(employ, vec.with_did()),
        "employ_tampered": _verify(_tamper_subject(employ), vec.with_did()),
        "defined_only": _verify(defined_only, vec.with_did()),
        "defined_only_extra_term": _verify(extra_term, vec.with_did()),
        "alumni_missing_context": _verify(alumni, {**no_examples, vec.did: vec.did_doc}),
        "alumni_before_valid_from": _verify(alumni, vec.with_did(), now="2022-12-31T00:00:00Z"),
        "web_listed": _verify(web, {**vec.contexts, WEB_DID: _web_did_doc(vec.public_mb)}),
        "web_not_listed": _verify(web, {**vec.contexts, WEB_DID: _web_did_doc(vec.public_mb, listed=False)}),
        "web_revoked": _verify(
            web, {**vec.contexts, WEB_DID: _web_did_doc(vec.public_mb, revoked="2024-01-01T00:00:00Z")}
        ),
        "web_cid_context": _verify(
            web,
            {**vec.contexts, WEB_DID: _web_did_doc(vec.public_mb, context=["https://www.w3.org/ns/cid/v1"])},
        ),
        "web_missing_did_doc": _verify(web, vec.contexts),
    }
    responses = vcjs_batch(list(requests.values()))
    return dict(zip(requests, responses, strict=True))


def _only_proof(response: dict[str, Any]) -> dict[str, Any]:
    proofs = response["proofs"]
    assert len(proofs) == 1, proofs
    return proofs[0]


# ------------------------------------------------------------------------------------ the harness


def test_installed_versions_are_the_locked_ones(installed: None) -> None:
    lock = _load(TESTS / "interop" / "package-lock.json")["packages"]
    versions = vcjs_versions()
    for name, version in versions["packages"].items():
        assert version == lock[f"node_modules/{name}"]["version"], name
    assert versions["packages"]["@digitalbazaar/vc"] is not None


def test_unusable_input_is_a_harness_error(installed: None) -> None:
    with pytest.raises(VcjsHarnessError, match="unknown op"):
        vcjs_request({"op": "no-such-op"})


# ------------------------------------------------------------------- (1) the W3C alumni vector


def test_w3c_vector_signature_valid_but_issuer_is_not_the_key_controller(verified: dict[str, Any]) -> None:
    # the W3C vector's issuer is https://vc.example/issuers/5678, its key a did:key: vc.js checks the
    # signature (valid) and then refuses on the issuer-controller check, and on nothing else
    for name in ("vector", "vector_did_key_driver"):
        response = verified[name]
        assert response["verified"] is False
        assert response["error"] == CONTROLLER_ERROR, name
        proof = _only_proof(response)
        assert proof["signature_valid"] is True
        assert proof["purpose_valid"] is False
    # the did:key verification method comes from the given DID document, or offline from did:key
    assert {"url": verified["vector"]["proofs"][0]["verificationMethod"], "source": "documents#fragment"} in (
        verified["vector"]["loaded"]
    )
    assert any(entry["source"] == "did:key" for entry in verified["vector_did_key_driver"]["loaded"])


def test_vcjs_reproduces_the_w3c_vector_proof(vec: Vectors, signed: dict[str, Any]) -> None:
    # Ed25519 is deterministic: same canonical document + proof options => the vector's very proofValue
    response = signed["vector_as_is"]
    assert response["error"] is None
    assert response["signed"]["proof"] == vec.signed["proof"]


def test_vector_resigned_with_the_did_key_as_issuer_verifies(
    signed: dict[str, Any], verified: dict[str, Any]
) -> None:
    assert signed["alumni_did_issuer"]["signed"]["issuer"].startswith("did:key:z6Mk")
    for name in ("alumni", "alumni_did_key_driver"):
        response = verified[name]
        assert response["verified"] is True, response["error"]
        assert response["error"] is None
        assert _only_proof(response)["error"] is None
        assert _only_proof(response)["purpose_valid"] is True


# ------------------------------------------------------------------ (2) one character changed


@pytest.mark.parametrize(
    "name", ["vector_tampered", "alumni_tampered", "employ_vector_tampered", "employ_tampered"]
)
def test_one_character_change_of_the_subject_fails(verified: dict[str, Any], name: str) -> None:
    response = verified[name]
    assert response["verified"] is False
    proof = _only_proof(response)
    assert proof["signature_valid"] is False
    assert proof["purpose_valid"] is None  # the purpose is not even looked at
    assert response["error"] == "Invalid signature."


# --------------------------------------------------------------------- (3) the W3C employ vector


def test_w3c_employ_vector_signature_valid_but_issuer_is_another_key(
    vec: Vectors, verified: dict[str, Any]
) -> None:
    # employ's issuer is did:key:zDnae... (a P-256 key) while the proof is by the Ed25519 vector key
    assert vec.employ_signed["issuer"]["id"].startswith("did:key:zDna")
    assert vec.employ_key["publicKeyMultibase"] == vec.public_mb
    response = verified["employ_vector"]
    assert response["verified"] is False
    assert response["error"] == CONTROLLER_ERROR
    assert _only_proof(response)["signature_valid"] is True


def test_vcjs_reproduces_the_employ_vector_proof(vec: Vectors, signed: dict[str, Any]) -> None:
    response = signed["employ_as_is"]
    assert response["error"] is None
    assert response["signed"]["proof"] == vec.employ_signed["proof"]


def test_employ_resigned_with_the_did_key_as_issuer_verifies(verified: dict[str, Any]) -> None:
    response = verified["employ"]
    assert response["verified"] is True, response["error"]


# ------------------------------------------------- what vc.js's strict default mode requires


def test_safe_mode_refuses_an_undefined_term(signed: dict[str, Any], verified: dict[str, Any]) -> None:
    refused = signed["undefined_term"]
    assert refused["signed"] is None
    assert "Safe mode validation error" in refused["error"] and "titleLevel" in refused["error"]
    assert verified["defined_only"]["verified"] is True, verified["defined_only"]["error"]
    # a term added after signing is not silently dropped (which would leave the signature valid)
    response = verified["defined_only_extra_term"]
    assert response["verified"] is False
    assert "Safe mode validation error" in response["error"] and "titleLevel" in response["error"]


def test_a_context_not_handed_over_is_an_error_naming_it(verified: dict[str, Any]) -> None:
    response = verified["alumni_missing_context"]
    assert response["verified"] is False
    assert '"https://www.w3.org/ns/credentials/examples/v2"' in response["error"]
    assert "never uses the network" in response["error"]


def test_valid_from_is_checked_against_now(verified: dict[str, Any]) -> None:
    response = verified["alumni_before_valid_from"]
    assert response["verified"] is False
    assert 'is before "validFrom"' in response["error"]


def test_key_must_be_listed_under_assertion_method(verified: dict[str, Any]) -> None:
    assert verified["web_listed"]["verified"] is True, verified["web_listed"]["error"]
    response = verified["web_not_listed"]
    assert response["verified"] is False
    assert f'Verification method "{WEB_VM}" not authorized by controller' in response["error"]
    assert _only_proof(response)["signature_valid"] is True


def test_revoked_property_is_ignored_by_the_data_integrity_suite(verified: dict[str, Any]) -> None:
    # DataIntegrityProof (data-integrity 2.x) never reads `revoked`; only the older
    # LinkedDataSignature suites (Ed25519Signature2020, ...) reject a key carrying it. A retired key
    # must therefore LEAVE assertionMethod to stop verifying in vc.js; `revoked` alone does nothing.
    assert verified["web_revoked"]["verified"] is True, verified["web_revoked"]["error"]


def test_controller_document_with_the_cid_context_is_accepted(verified: dict[str, Any]) -> None:
    assert verified["web_cid_context"]["verified"] is True, verified["web_cid_context"]["error"]


def test_a_did_that_is_not_handed_over_is_not_resolved(verified: dict[str, Any]) -> None:
    response = verified["web_missing_did_doc"]
    assert response["verified"] is False
    assert f'"{WEB_VM}"' in response["error"]
