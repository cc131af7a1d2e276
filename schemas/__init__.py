"""Contexts, JSON Schemas, reference data and the offline JSON-LD document loader.

This package is the bottom layer: it imports nothing else of TitleCred and never touches the network.
"""

TITLE_CONTEXT_URL = "https://w3id.org/titlecred/v1"
CREDENTIALS_V2_URL = "https://www.w3.org/ns/credentials/v2"
TITLE_VOCAB = "https://w3id.org/titlecred#"
