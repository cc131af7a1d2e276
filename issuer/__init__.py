"""Build professional title credentials from certificate records and sign them.

Imports `schemas`, `keys` and `proofs`; never `verifier`. Pure functions: no database, no network.
"""
