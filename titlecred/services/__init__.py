"""The registry's business rules as plain functions over a SQLModel `Session` and the acting principal.

Routes (titlecred.api), the CLI (titlecred.cli_registry) and the batch runner all call these same
functions. Each public function that changes state is one transaction: it commits at its end and
rolls back on any error, so a failed step leaves the database exactly as it was. Private helpers
(leading underscore) never commit: they run inside their caller's transaction.

Nothing here knows about HTTP, and nothing here logs or raises a message containing a full resident
ID number.
"""
