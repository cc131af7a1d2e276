"""The workbench's batch verification page (`/work/verify-batch`): a registration body's staff upload a folder
or a ZIP of applicants' certificate files and get one result per file, on screen and as CSV.

It calls `titlecred.batch` with the registry's own trust, as `POST /api/verify/batch` does; no rule here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from titlecred import batch
from titlecred.api.deps import RegistryDep, SessionDep
from titlecred.services import verification
from titlecred.services.context import Registry
from titlecred.services.principal import Principal
from titlecred.web.deps import User
from titlecred.web.routes.portal import guarded, page
from titlecred.web.views import when

router = APIRouter(include_in_schema=False)


def _page(request: Request, registry: Registry, user: Principal, *, results: list[dict[str, Any]] | None = None,
          error: str | None = None, status_code: int = 200) -> Response:
    shown = None if results is None else [
        {**r, "status_as_of": when((r.get("status") or {}).get("asOf"))} for r in results]
    return page(request, registry, user, "work/verify_batch.html", {
        "results": shown, "summary": batch.summary(results or []), "max_items": batch.MAX_ITEMS, "error": error},
        status_code=status_code, here="home")


@router.get("/work/verify-batch")
def verify_batch_page(request: Request, registry: RegistryDep, user: User) -> Response:
    return guarded(request, registry, user, lambda: _page(request, registry, user))


@router.post("/work/verify-batch")
async def verify_batch_submit(request: Request, session: SessionDep, registry: RegistryDep, user: User,
                              files: Annotated[list[UploadFile] | None, File()] = None,
                              csrf: Annotated[str, Form(max_length=64)] = "", format: str = "html") -> Response:
    uploads = []
    for f in files or []:
        if f.filename:
            data = await f.read(batch.MAX_FILE_BYTES + 1)
            uploads.append((f.filename, data))
    return await run_in_threadpool(_verify, request, session, registry, user, uploads, csrf, format == "csv")


def _items(uploads: list[tuple[str, bytes]]) -> list[batch.Item]:
    items: list[batch.Item] = []
    for name, data in uploads:
        if len(data) > batch.MAX_FILE_BYTES:
            items.append(batch.Item(name, unreadable=f"larger than {batch.MAX_FILE_BYTES} bytes"))
        elif name.lower().endswith(".zip") or data[:4] == b"PK\x03\x04":
            items += [replace(i, name=f"{name}/{i.name}") for i in batch.items_from_zip(data)]
        else:
            items.append(batch.Item(name, data=data))
        if len(items) > batch.MAX_ITEMS:
            raise batch.BatchError("batch_too_large", f"a batch holds at most {batch.MAX_ITEMS} files")
    return items


def _verify(request: Request, session: Session, registry: Registry, user: Principal, uploads: list[tuple[str, bytes]],
            csrf: str, as_csv: bool) -> Response:
    def body() -> Response:
        from titlecred.web.i18n import pick_language, translator

        if not uploads:
            return _page(request, registry, user, error=translator(pick_language(request))("vb.none"),
                         status_code=422)
        policy = replace(verification.policy(session, registry), unsafe_any_issuer=False)
        results = batch.verify_all(_items(uploads), policy)
        if as_csv:
            return Response(batch.to_csv(results).encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename="verification-report.csv"',
                                     "Cache-Control": "no-store"})
        return _page(request, registry, user, results=results)

    return guarded(request, registry, user, body, csrf=csrf)
