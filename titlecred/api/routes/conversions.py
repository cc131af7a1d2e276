"""Paper → electronic conversion (换证): the holder submits the paper facts and two cover photos.

Routes here never hold a rule: they validate, call one service, and shape the response.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from titlecred.api import models as m
from titlecred.api import views
from titlecred.api.deps import PrincipalDep, RegistryDep, SessionDep
from titlecred.services import conversion
from titlecred.services.errors import Invalid
from titlecred.services.rows import parse_json_object

router = APIRouter(tags=["conversions"], responses=m.PROBLEMS)


def _read(upload: UploadFile) -> conversion.PhotoUpload:
    # One byte more than allowed is enough to know it is too large.
    data = upload.file.read(conversion.MAX_PHOTO_BYTES + 1)
    return conversion.PhotoUpload(data, upload.content_type)


@router.post("/api/conversions", summary="Apply to convert a paper certificate (holder): `paper` is a JSON object "
             "of its facts; cover1/cover2 are photos of its cover pages (JPEG or PNG, at most 1 MB each)",
             response_model=m.ApplicationOut, status_code=201)
def submit(paper: Annotated[str, Form(max_length=8192)], cover1: Annotated[UploadFile, File()],
           cover2: Annotated[UploadFile, File()], session: SessionDep, registry: RegistryDep,
           actor: PrincipalDep) -> m.ApplicationOut:
    facts = parse_json_object(paper.encode("utf-8"), "paper")
    if not isinstance(facts, dict):
        raise Invalid("invalid_field", "paper must be a JSON object", 422, "paper")
    app = conversion.submit(session, registry, actor, facts, {"cover1": _read(cover1), "cover2": _read(cover2)})
    return views.application_out(session, actor, app)
