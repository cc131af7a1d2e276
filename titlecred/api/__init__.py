"""The HTTP API: one FastAPI application (`create_app`) over the registry's services.

Routes validate, call one service, and shape the response; every error is application/problem+json
with a stable code. Nothing here holds a business rule, and nothing here may
ever answer with a traceback or an unmasked ID number to anyone but the holder or the bureau.
"""

from titlecred.api.app import create_app

__all__ = ["create_app"]
