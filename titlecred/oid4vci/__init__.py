"""OpenID for Verifiable Credential Issuance 1.0: metadata, offers, key proofs, errors (pure functions).

The database side (offers, tokens, nonces) is titlecred.services.wallet_issuance; the HTTP side is
titlecred.api.routes.oid4vci.
"""
