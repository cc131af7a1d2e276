"""OpenID for Verifiable Presentations 1.0, verifier side: DCQL queries, authorization requests,
vp_token parsing and the disclosure check (pure functions). The database side is
titlecred.services.presentations; the HTTP side titlecred.api.routes.oid4vp and titlecred.web.routes.verifier.
"""
