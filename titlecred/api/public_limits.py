"""Body limits of the routes that take large uploads (the batch verification), above BodyLimit's default."""

from __future__ import annotations

BATCH_LIMIT = 32 * 1024 * 1024
LARGE_BODIES = {"/api/verify/batch": BATCH_LIMIT, "/work/verify-batch": BATCH_LIMIT}
