"""The wallet formats' throughput on one core, beside raw Ed25519 and the W3C credential, same run.

Run by hand (not a test): `.venv/bin/python bench/bench_wallets.py [--seconds 3]`.
Prints per second: the SD-JWT VC of a certificate issued (every fact a disclosure) and verified
(parse, disclosures, issuer signature, key state, issuer trust, validity; status skipped, as the
Token Status List is a fetch), an SD-JWT presentation with its key-binding JWT verified, an
OpenID4VCI `jwt` key proof checked, and the bound W3C credential (`ldp_vc`) signed and verified:
each as a ratio of raw Ed25519 sign or verify.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from common import pin_one_core, rate  # noqa: E402

from core_support import make_bureau  # noqa: E402
from issuer.sdjwt import title_sd_jwt  # noqa: E402
from issuer.sign import issue_bound  # noqa: E402
from keys.jose import b64u, did_for_jwk, sign_compact  # noqa: E402
from keys.material import SigningKey  # noqa: E402
from titlecred.oid4vci.proofs import check_jwt_proof  # noqa: E402
from verifier.sdjwt import verify_sd_jwt  # noqa: E402
from verifier.verify import verify_credential  # noqa: E402

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    pin_one_core()
    bureau = make_bureau(SigningKey.generate())
    full = bureau.issue().full
    key = bureau.issuer_key
    holder = SigningKey.generate()
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(holder.public_key.raw)}
    policy = replace(bureau.policy(now=NOW), unsafe_skip_status=True)
    iat = int(NOW.timestamp())

    def sd_issue(i: int) -> str:
        return title_sd_jwt(subject=full["credentialSubject"], issuer_did=bureau.profile.did,
                            kid=key.verification_method, sign=key.sign, holder_jwk=jwk, issued_at=iat,
                            status_uri="https://example.org/status/revocation-1/token", status_index=7)

    sd = sd_issue(0)

    def sd_verify(i: int) -> None:
        if not verify_sd_jwt(sd, policy).verified:
            raise SystemExit("benchmark SD-JWT did not verify")

    jwt, *discs, _ = sd.split("~")
    shown = jwt + "~" + "".join(d + "~" for d in discs[:3])
    kb = sign_compact({"alg": "EdDSA", "typ": "kb+jwt"}, {
        "iat": iat, "aud": "x:aud", "nonce": "n-1",
        "sd_hash": b64u(hashlib.sha256(shown.encode()).digest())}, holder.sign)
    presentation = shown + kb

    def kb_verify(i: int) -> None:
        if not verify_sd_jwt(presentation, policy, nonce="n-1", audience="x:aud", require_key_binding=True).verified:
            raise SystemExit("benchmark presentation did not verify")

    proof = sign_compact({"alg": "EdDSA", "typ": "openid4vci-proof+jwt", "jwk": jwk},
                         {"aud": "https://issuer.example", "iat": iat, "nonce": "n"}, holder.sign)
    holder_did = did_for_jwk(jwk)
    bound = issue_bound(full, key, holder_did=holder_did, now=NOW)

    def ldp_verify(i: int) -> None:
        if not verify_credential(bound, policy).verified:
            raise SystemExit("benchmark ldp_vc did not verify")

    message = b"x" * 64
    signature = bureau.key.sign(message)
    figures = {
        "raw Ed25519 sign": rate(lambda i: bureau.key.sign(message), args.seconds),
        "raw Ed25519 verify": rate(lambda i: bureau.key.public_key.verify(message, signature), args.seconds),
        "SD-JWT VC issue": rate(sd_issue, args.seconds),
        "SD-JWT VC verify": rate(sd_verify, args.seconds),
        "SD-JWT + KB-JWT verify": rate(kb_verify, args.seconds),
        "jwt key proof check": rate(lambda i: check_jwt_proof(proof, audience="https://issuer.example", now=NOW),
                                    args.seconds),
        "ldp_vc bound sign": rate(lambda i: issue_bound(full, key, holder_did=holder_did, now=NOW), args.seconds),
        "ldp_vc verify": rate(ldp_verify, args.seconds),
    }
    print(f"one core, same run ({time.strftime('%Y-%m-%d %H:%M')}); SD-JWT {len(sd)} chars, "
          f"ldp_vc {len(json.dumps(bound, ensure_ascii=False).encode())} bytes")
    for name, value in figures.items():
        base = figures["raw Ed25519 sign" if "sign" in name or "issue" in name else "raw Ed25519 verify"]
        print(f"  {name:<24}{value:10,.0f} /s   {value / base:6.3f} of raw")


if __name__ == "__main__":
    main()
