"""Credential sign and verify throughput on one core, against raw Ed25519 and Digital Bazaar's vc.js.

Run by hand (not a test): `.venv/bin/python bench/bench_credentials.py [--seconds 3]`.
Prints, from one run: raw Ed25519 sign/verify per second (the floor), our credential sign and
verify per second (full verification: bounds, schema, canonicalization, signature, key state,
issuer, validity), the ratio of each to the raw figure, and vc.js's figures on the same credential
when Node.js and tests/interop/node_modules are present.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from common import pin_one_core, rate  # noqa: E402

from core_support import make_bureau  # noqa: E402
from issuer.sign import sign_document  # noqa: E402
from keys.material import SigningKey  # noqa: E402
from proofs import canon  # noqa: E402
from verifier.verify import verify_credential  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--no-vcjs", action="store_true")
    args = parser.parse_args()
    pin_one_core()

    seed = os.urandom(32)
    bureau = make_bureau(SigningKey.from_seed(seed))
    pair = bureau.issue()
    unsigned = {k: v for k, v in pair.full.items() if k != "proof"}
    policy = bureau.policy(now=datetime(2026, 11, 20, tzinfo=UTC))
    message = os.urandom(64)
    signature = bureau.key.sign(message)
    public = bureau.key.public_key

    raw_sign = rate(lambda i: bureau.key.sign(message), args.seconds)
    raw_verify = rate(lambda i: public.verify(message, signature), args.seconds)
    created = [f"2026-11-01T08:{m:02d}:{s:02d}Z" for m in range(60) for s in range(60)]
    cred_sign = rate(lambda i: sign_document(unsigned, bureau.issuer_key, created=created[i % len(created)]),
                     args.seconds)

    def verify_once(i: int) -> None:
        if not verify_credential(pair.full, policy).verified:
            raise SystemExit("benchmark credential did not verify")

    cred_verify = rate(verify_once, args.seconds)
    # The same on pyld alone (a credential of a shape never seen before takes this path once).
    canon.set_templates(False)
    pyld_sign = rate(lambda i: sign_document(unsigned, bureau.issuer_key, created=created[i % len(created)]),
                     args.seconds)
    pyld_verify = rate(verify_once, args.seconds)
    canon.set_templates(True)
    print("one core, title credential (full form), same run")
    print(f"  raw Ed25519 sign        {raw_sign:10,.0f} /s")
    print(f"  raw Ed25519 verify      {raw_verify:10,.0f} /s")
    print(f"  credential sign         {cred_sign:10,.0f} /s   {cred_sign / raw_sign:6.3f} of raw sign")
    print(f"  credential verify       {cred_verify:10,.0f} /s   {cred_verify / raw_verify:6.3f} of raw verify")
    print(f"  (pyld path) sign        {pyld_sign:10,.0f} /s   {pyld_sign / raw_sign:6.3f} of raw sign")
    print(f"  (pyld path) verify      {pyld_verify:10,.0f} /s   {pyld_verify / raw_verify:6.3f} of raw verify")
    if not args.no_vcjs:
        vcjs = _vcjs(pair, bureau, seed, args.seconds)
        if vcjs:
            print(f"  vc.js sign              {vcjs['sign_per_sec']:10,.0f} /s   ours is "
                  f"{cred_sign / vcjs['sign_per_sec']:.2f}x")
            print(f"  vc.js verify            {vcjs['verify_per_sec']:10,.0f} /s   ours is "
                  f"{cred_verify / vcjs['verify_per_sec']:.2f}x")


def _vcjs(pair: Any, bureau: Any, seed: bytes, seconds: float) -> dict[str, float] | None:
    from interop import vcjs
    from keys.multikey import encode_secret_multikey
    from schemas.loader import bundled_contexts

    if not vcjs.node_available():
        print("  vc.js: skipped (Node.js or tests/interop/node_modules missing; run scripts/setup --dev)")
        return None
    unsigned = {k: v for k, v in pair.full.items() if k != "proof"}
    documents = {**bundled_contexts(), bureau.profile.did: bureau.did_document()}
    answer = vcjs.vcjs_bench(unsigned, encode_secret_multikey(seed), bureau.key.public_key.multibase,
                             bureau.record.key_id, bureau.profile.did, pair.full["proof"]["created"], documents,
                             signed=pair.full, seconds=seconds, now="2026-11-20T00:00:00Z")
    if answer.get("error"):
        print(f"  vc.js: failed: {answer['error']}")
        return None
    return answer


if __name__ == "__main__":
    main()
