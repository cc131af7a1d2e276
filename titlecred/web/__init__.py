"""The pages for people: the scan page a QR code opens, the consent-gated lookup, and the portals of
holders, units and the bureau. Server-rendered (Jinja2), Chinese first with an English switch.

Pages call the same services as the JSON API (titlecred.services) and hold no rule of their own.
"""
