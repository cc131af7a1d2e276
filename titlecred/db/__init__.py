"""The registry's database: engine and session (`engine`), tables (`models`), migrations (`migrate`).

Nothing here holds a business rule; services (titlecred.services) decide what is written.
"""
