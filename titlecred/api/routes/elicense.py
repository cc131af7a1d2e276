"""E-license formats for the provincial library: the certificate as OFD, its metadata, the batch export."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from issuer.elicense_meta import to_csv
from titlecred.api import models as m
from titlecred.api.deps import Id, PrincipalDep, RegistryDep, SessionDep
from titlecred.services import elicense, printouts

router = APIRouter(tags=["e-license"], responses=m.PROBLEMS)
OFD_MEDIA_TYPE = "application/ofd"


@router.get("/api/certificates/{cert_id}/ofd", summary="The certificate as OFD (GB/T 33190), the same page as the "
            "PDF, with the same attachment rules", response_class=Response,
            responses={200: {"content": {OFD_MEDIA_TYPE: {}}}})
def certificate_ofd(cert_id: Id, session: SessionDep, registry: RegistryDep, actor: PrincipalDep) -> Response:
    printout = printouts.certificate_pdf(session, registry, actor, cert_id, fmt="ofd")
    return Response(printout.data, media_type=OFD_MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{printout.filename}"',
        "Cache-Control": "no-store", "X-TitleCred-Attached": printout.attached})


@router.get("/api/certificates/{cert_id}/elicense", summary="The certificate's e-license metadata (GB/T 36903 "
            "field set; the holder and the bureau)")
def certificate_metadata(cert_id: Id, session: SessionDep, actor: PrincipalDep) -> dict[str, str]:
    return elicense.certificate_metadata(session, actor, cert_id)


@router.get("/api/elicense/metadata", summary="Bulk export of e-license metadata of the certificates issued in a "
            "date range (China dates, both included; bureau only), as JSON or the library's CSV batch")
def export_metadata(session: SessionDep, actor: PrincipalDep,
                    start: Annotated[date, Query(alias="from")], end: Annotated[date, Query(alias="to")],
                    format: Literal["json", "csv"] = "json") -> Response:
    rows = elicense.batch(session, actor, start, end)
    if format == "csv":
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="elicense-{start}-{end}.csv"', "Cache-Control": "no-store"})
    return Response(json.dumps(rows, ensure_ascii=False), media_type="application/json",
                    headers={"Cache-Control": "no-store"})
