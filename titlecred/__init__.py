"""The TitleCred application: settings, database, services, HTTP routes, CLI and web pages.

It imports every lower package (schemas, keys, proofs, issuer, verifier); nothing imports it back.
"""
