"""Verify credentials: a policy in, a structured result out.

Imports `schemas`, `keys` and `proofs`; never `issuer`. An invalid credential is a result, never an
exception; only input that cannot be read at all raises (`UnusableInput`).
"""
