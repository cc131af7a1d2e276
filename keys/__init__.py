"""Issuer keys: Ed25519 key material, Multikey/JWK encodings, key life states, the encrypted keystore,
offline DID resolution (did:key, did:web from trusted documents) and publication (did.json, jwks.json).

This package imports nothing else of TitleCred (only the standard library and third-party libraries),
so every other layer can depend on it. It never logs, prints or exports secret key material.
"""
