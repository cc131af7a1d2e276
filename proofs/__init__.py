"""Data Integrity proofs: cryptosuites, canonicalization, proof creation and verification.

Imports only `schemas` and `keys` of TitleCred. Pure functions over dicts: no database, no network.
"""
