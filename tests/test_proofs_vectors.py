"""The W3C EdDSA Cryptosuites v1.0 test vectors, byte for byte (one test per vector folder)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import load_json, shared_dir
from keys.material import SigningKey
from keys.multikey import decode_public_multikey
from proofs.canon import canonize
from proofs.dataintegrity import ProofOptions, add_proof, verify_proofs
from schemas.loader import DocumentLoader

RDFC = ["", "employ"]


def _vector_dir(sub: str) -> Path:
    return shared_dir() / "w3c" / "vectors" / "eddsa-rdfc-2022" / sub


def _unsigned(folder: Path) -> dict[str, Any]:
    name = "unsigned.json" if (folder / "unsigned.json").exists() else "employmentAuth.json"
    return load_json(folder / name)


@pytest.fixture(scope="module")
def loader(test_only_contexts: dict[str, Any]) -> DocumentLoader:
    return DocumentLoader(test_only_contexts)


def _key(folder: Path) -> SigningKey:
    pair = load_json(folder / "keyPair.json")
    return SigningKey.from_secret_multibase(pair["privateKeyMultibase"])


def _verifier(folder: Path) -> Any:
    pair = load_json(folder / "keyPair.json")
    raw = decode_public_multikey(pair["publicKeyMultibase"])

    def resolve(vm: str) -> Any:
        from nacl.exceptions import BadSignatureError
        from nacl.signing import VerifyKey

        def verify(message: bytes, signature: bytes) -> bool:
            try:
                VerifyKey(raw).verify(message, signature)
                return True
            except BadSignatureError:
                return False

        return verify

    return resolve


@pytest.mark.parametrize("sub", RDFC)
def test_canonical_document_matches_vector(sub: str, loader: DocumentLoader) -> None:
    folder = _vector_dir(sub)
    assert canonize(_unsigned(folder), loader) == (folder / "canonDocDataInt.txt").read_text()


@pytest.mark.parametrize("sub", RDFC)
def test_canonical_proof_config_and_hashes_match_vector(sub: str, loader: DocumentLoader) -> None:
    folder = _vector_dir(sub)
    config = load_json(folder / "proofConfigDataInt.json")
    canon = canonize(config, loader)
    assert canon == (folder / "proofCanonDataInt.txt").read_text()
    assert hashlib.sha256(canon.encode()).hexdigest() == (folder / "proofHashDataInt.txt").read_text().strip()
    doc_hash = hashlib.sha256(canonize(_unsigned(folder), loader).encode()).hexdigest()
    assert doc_hash == (folder / "docHashDataInt.txt").read_text().strip()


@pytest.mark.parametrize("sub", RDFC)
def test_signing_the_spec_credential_gives_the_spec_proof_value(sub: str, loader: DocumentLoader) -> None:
    folder = _vector_dir(sub)
    config = load_json(folder / "proofConfigDataInt.json")
    options = ProofOptions(verification_method=config["verificationMethod"], created=config["created"],
                           proof_purpose=config["proofPurpose"])
    signed = add_proof(_unsigned(folder), options, _key(folder).sign, loader)
    expected = load_json(folder / "signedDataInt.json")
    assert signed["proof"]["proofValue"] == (folder / "sigBTC58DataInt.txt").read_text().strip()
    assert signed == expected
    assert json.dumps(signed, sort_keys=True) == json.dumps(expected, sort_keys=True)


@pytest.mark.parametrize("sub", RDFC)
def test_spec_signed_credential_verifies(sub: str, loader: DocumentLoader) -> None:
    folder = _vector_dir(sub)
    checks = verify_proofs(load_json(folder / "signedDataInt.json"), _verifier(folder), loader)
    assert [c.ok for c in checks] == [True]


@pytest.mark.parametrize("sub", RDFC)
def test_changed_spec_credential_fails_and_names_the_proof(sub: str, loader: DocumentLoader) -> None:
    folder = _vector_dir(sub)
    signed = load_json(folder / "signedDataInt.json")
    signed["validFrom"] = "2023-01-02T00:00:00Z" if "validFrom" in signed else signed.get("validFrom")
    if "validFrom" not in load_json(folder / "signedDataInt.json"):
        signed["id"] = "urn:uuid:00000000-0000-4000-8000-000000000000"
    checks = verify_proofs(signed, _verifier(folder), loader)
    assert not checks[0].ok
    assert checks[0].code == "invalid_signature"
    assert "eddsa-rdfc-2022 proof" in checks[0].reason


def test_jcs_vector_signs_and_verifies_byte_for_byte(w3c: Path, loader: DocumentLoader) -> None:
    folder = w3c / "vectors" / "eddsa-jcs-2022"
    config = load_json(folder / "proofConfigJCS.json")
    options = ProofOptions(verification_method=config["verificationMethod"], created=config["created"],
                           cryptosuite="eddsa-jcs-2022")
    signed = add_proof(load_json(folder / "unsigned.json"), options, _key(folder).sign, loader)
    assert signed == load_json(folder / "signedJCS.json")
    assert [c.ok for c in verify_proofs(signed, _verifier(folder), loader)] == [True]


@pytest.mark.parametrize("name", ["signedProofSet1.json", "signedProofSet2.json", "signedProofChain1.json",
                                  "signedProofChain2.json"])
def test_spec_proof_sets_and_chains_verify(name: str, loader: DocumentLoader) -> None:
    folder = _vector_dir("proof-set-chain")
    pairs = load_json(folder / "multiKeyPairs.json")
    by_public = {}
    for pair in pairs.values() if isinstance(pairs, dict) else pairs:
        by_public[pair["publicKeyMultibase"]] = decode_public_multikey(pair["publicKeyMultibase"])

    def resolve(vm: str) -> Any:
        from nacl.exceptions import BadSignatureError
        from nacl.signing import VerifyKey

        raw = by_public[vm.split("#")[-1]]

        def verify(message: bytes, signature: bytes) -> bool:
            try:
                VerifyKey(raw).verify(message, signature)
                return True
            except BadSignatureError:
                return False

        return verify

    checks = verify_proofs(load_json(folder / name), resolve, loader)
    assert checks and all(c.ok for c in checks), [c.reason for c in checks]
