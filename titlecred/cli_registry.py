"""The registry's commands on the `titlecred` CLI: serve, demo, bootstrap, db upgrade, audit verify/checkpoint.

Importing this module registers them on `titlecred.cli.app`. Like every command, they are thin: they
read settings, call services, and print. Exit codes: 0 success; 1 `audit verify` found a broken chain;
2 a refused operation or unusable input (one line `error[code]: message`, never a traceback).

Passwords generated here (demo, bootstrap) are printed once and never stored in the clear.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from sqlmodel import Session, select

from titlecred.cli import app, guarded
from titlecred.errors import AppError
from titlecred.settings import Settings, load_settings

audit_app = typer.Typer(no_args_is_help=True, help="The audit trail: verify the hash chain, show the checkpoint.")
db_app = typer.Typer(no_args_is_help=True, help="The registry database: apply migrations.")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")

DEMO_REGION = "140102"
T = TypeVar("T")


def _guard(fn: Callable[[], T]) -> T:
    """`guarded`, and database errors as one line too (their message holds SQL parameters: never shown)."""
    from sqlalchemy.exc import SQLAlchemyError

    def safe() -> T:
        try:
            return fn()
        except SQLAlchemyError as e:
            raise AppError("database_error", f"the database refused the operation ({type(e).__name__}); "
                           "is it reachable, and is TITLECRED_DATABASE_URL right?") from None

    return guarded(safe)


def _sessions(settings: Settings) -> Any:
    from titlecred.db.engine import make_engine, session_factory

    return session_factory(make_engine(settings.database_url))


# ---------------------------------------------------------------- serve


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port", envvar="TITLECRED_PORT")] = 8000,
    workers: Annotated[int | None, typer.Option(min=1, max=256, help="Worker processes (default: the cores)")] = None,
) -> None:
    """Run the registry's HTTP API (migrations are applied first). TITLECRED_DATABASE_URL picks the database."""
    from titlecred.serve import run

    run(host, port, workers, _guard)


# ---------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (alembic upgrade head)."""
    from titlecred.db.migrate import upgrade

    _guard(lambda: upgrade(load_settings().database_url))
    typer.echo("database is at the newest schema")


# ---------------------------------------------------------------- bootstrap


@app.command("bootstrap")
def bootstrap(
    region_code: Annotated[str, typer.Option(help="The bureau's 6-digit division code (in certificate numbers)")],
    admin_username: Annotated[str, typer.Option(help="Username of the bureau's first admin")] = "admin",
) -> None:
    """Create the bureau organization (from the issuer profile) and its first admin; prints the password once."""
    from titlecred.api.app import build_registry
    from titlecred.db.migrate import upgrade
    from titlecred.services import orgs, status

    def run() -> str | None:
        settings = load_settings()
        upgrade(settings.database_url)
        registry = build_registry(settings)
        with _sessions(settings)() as session:
            _, new = orgs.bootstrap(session, registry, region_code=region_code, admin_username=admin_username)
            status.ensure_lists(session, registry)
        return new.password

    password = _guard(run)
    typer.echo(f"bureau created; admin '{admin_username}' password (shown once): {password}")


# ---------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Walk the audit chain end to end. Exit 0 if intact, 1 naming the first broken entry."""
    from titlecred.services import audit

    def run() -> audit.ChainReport:
        with _sessions(load_settings())() as session:
            return audit.verify_chain(session)

    report = _guard(run)
    if as_json:
        typer.echo(json.dumps({"ok": report.ok, "entries": report.entries, "headSeq": report.head_seq,
                               "headHash": report.head_hash, "brokenSeq": report.broken_seq,
                               "reason": report.reason}))
    elif report.ok:
        typer.echo(f"audit chain intact: {report.entries} entries, head #{report.head_seq} {report.head_hash}")
    else:
        typer.echo(f"audit chain BROKEN at entry #{report.broken_seq}: {report.reason}", err=True)
    raise typer.Exit(0 if report.ok else 1)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Print (and record as published) the latest entry number and hash."""
    from titlecred.services import audit
    from titlecred.services.clock import utc_now

    def run() -> audit.Checkpoint:
        with _sessions(load_settings())() as session:
            return audit.checkpoint(session, utc_now())

    cp = _guard(run)
    typer.echo(json.dumps({"seq": cp.seq, "hash": cp.hash, "publishedAt": cp.published_at}))


# ---------------------------------------------------------------- demo


def _demo_id(seq: int, born: str = "19800101", region: str = "140105") -> str:
    from schemas.identifiers import resident_id_check_char

    first17 = f"{region}{born}{seq:03d}"
    return first17 + resident_id_check_char(first17)


def _demo_code(n: int) -> str:
    from schemas.identifiers import unit_code_check_char

    first17 = f"1214010000000{n:04d}"
    return first17 + unit_code_check_char(first17)


def _demo_png(text: str) -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (480, 320), (178, 34, 34))
    ImageDraw.Draw(im).text((20, 20), text, fill=(255, 215, 0))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


@app.command("demo")
def demo() -> None:
    """A demo registry in TITLECRED_HOME: a bureau (this home's issuer and keys if it has them, e.g. after
    the README's tour; a demo one otherwise), one organization of each kind with an account each, and
    applications in every state. Passwords are printed once. The database must hold no registry yet."""
    from sqlalchemy.engine import make_url

    settings = load_settings()
    accounts = _guard(lambda: _build_demo(settings))
    typer.echo(f"demo registry ready in {settings.home}")
    typer.echo(f"  database: {make_url(settings.database_url).render_as_string(hide_password=True)}")
    typer.echo("  accounts (passwords are shown this once):")
    for username, role, org, password in accounts:
        typer.echo(f"    {username:<18} {role:<8} {org:<26} {password}")
    base = settings.base_url
    typer.echo(f"  zhaomin's certificate: {settings.home / 'demo-certificate.pdf'} (its QR code opens the scan page)")
    typer.echo("next: titlecred serve, then open")
    for url, what in ((f"{base}/", "the pages: sign in as a holder (zhaomin, with the password or a one-time code"),
                      ("", "sent to 13800138000: the console sender prints it in the server's log), a reviewer"),
                      ("", "(employer, supervisory, ...) or the bureau"),
                      (f"{base}/v", "the scan page (scan the PDF's QR code, or paste its text)"),
                      (f"{base}/docs", "the API (log in: POST /api/auth/login)"),
                      (f"{base}/me/shares", "a holder's purpose-bound shares; a certificate's page: add to a wallet"),
                      (f"{base}/work/presentations", "ask a wallet for a title credential (OpenID4VP)"),
                      (f"{base}/.well-known/openid-credential-issuer", "the wallet issuer metadata (OpenID4VCI)")):
        typer.echo(f"  {url:<28} {what}")


def _build_demo(settings: Settings) -> list[tuple[str, str, str, str]]:
    from issuer.credential import IssuerProfile
    from titlecred.api.app import build_registry
    from titlecred.db.migrate import upgrade
    from titlecred.db.models import Account, Organization
    from titlecred.issuer_profile import DEFAULT_DID, DEFAULT_NAME, open_keystore, save_profile
    from titlecred.services import orgs, status
    from titlecred.services.auth import principal_for
    from titlecred.services.errors import Conflict

    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    sessions = _sessions(settings)
    with sessions() as session:
        if session.exec(select(Organization)).first() is not None:
            raise Conflict("database_not_empty", "the database already holds a registry; the demo needs an empty one")
    if settings.issuer_file.exists():
        # The home's own bureau (e.g. the README tour's): its keys sign; a new key only if none is active.
        from keys.state import KeyState
        from titlecred.issuer_profile import load_profile

        store = open_keystore(settings)
        if not any(r.state is KeyState.ACTIVE for r in store.list()):
            store.generate(load_profile(settings).did)
    else:
        save_profile(settings, IssuerProfile(did=DEFAULT_DID, name=DEFAULT_NAME, unit_code=_demo_code(1)))
        open_keystore(settings).generate(DEFAULT_DID)
    registry = build_registry(settings)
    printed: list[tuple[str, str, str, str]] = []
    with sessions() as s:
        bureau, admin = orgs.bootstrap(s, registry, region_code=DEMO_REGION, admin_username="bureau")
        status.ensure_lists(s, registry)
        printed.append(("bureau", "admin", bureau.name, str(admin.password)))
        boss = principal_for(s, admin.account)
        made: dict[str, Organization] = {}
        specs = [
            ("district", "district_bureau", "示例市示例区人力资源和社会保障局", {}),
            ("supervisory", "supervisory", "示例市住房和城乡建设局", {}),
            ("committee", "committee", "示例市工程技术高级职称评审委员会",
             {"organizingUnit": "示例市住房和城乡建设局"}),
            ("selfreview", "self_review_unit", "示例大学", {}),
            ("exam", "exam_body", "示例市人事考试中心", {}),
        ]
        for i, (key, kind, name, extra) in enumerate(specs, start=2):
            made[key] = orgs.create_org(s, registry, boss, {"kind": kind, "name": name, "unitCode": _demo_code(i),
                                                            **extra})
        made["employer"] = orgs.create_org(s, registry, boss, {
            "kind": "employer", "name": "示例建筑设计研究院", "unitCode": _demo_code(9),
            "supervisorId": made["supervisory"].id, "districtId": made["district"].id})
        for key in ("district", "supervisory", "committee", "selfreview", "exam", "employer"):
            org = made[key]
            assert org.id is not None
            new = orgs.create_account(s, registry, boss, org.id, {"username": key, "displayName": f"{org.name}管理员",
                                                                  "role": "admin"})
            printed.append((key, "admin", org.name, str(new.password)))
        holders = [("zhangwei", "张伟", "Zhang Wei", 11), ("wangfang", "王芳", "Wang Fang", 22),
                   ("liqiang", "李强", "Li Qiang", 31), ("liuyang", "刘洋", "Liu Yang", 42),
                   ("chenjing", "陈静", "Chen Jing", 52), ("yangmin", "杨敏", "Yang Min", 61),
                   ("zhaomin", "赵敏", "Zhao Min", 72)]
        emp = made["employer"]
        assert emp.id is not None
        for username, name, pinyin, seq in holders:
            # zhaomin has a phone on file, to try signing in with a one-time code (printed on the console).
            contact = {"phone": "13800138000"} if username == "zhaomin" else {}
            new = orgs.create_account(s, registry, boss, emp.id, {
                "username": username, "displayName": name, "role": "holder",
                "person": {"name": name, "idNumber": _demo_id(seq), "namePinyin": pinyin}, **contact})
            printed.append((username, "holder", emp.name, str(new.password)))
        p = {a.username: principal_for(s, a) for a in s.exec(select(Account)).all()}
        cert_id = _demo_workflows(s, registry, p, made)
        _demo_printout(s, registry, settings, p["zhaomin"], cert_id)
    return printed


def _demo_printout(s: Session, registry: Any, settings: Settings, holder: Any, cert_id: int) -> None:
    """The holder's certificate as a PDF in the home folder, and its QR link, to try the scan page."""
    from titlecred.services import printouts

    printout = printouts.certificate_pdf(s, registry, holder, cert_id)
    path = settings.home / "demo-certificate.pdf"
    path.write_bytes(printout.data)
    path.chmod(0o600)  # the attachment is the holder's full credential, ID number included


def _demo_workflows(s: Session, registry: Any, p: dict[str, Any], made: dict[str, Any]) -> int:
    from titlecred.services import applications, certificates, conversion, legacy, slips, uploads

    def apply(who: str, channel: str, **facts: Any) -> Any:
        base = {"channel": channel, "qualification": "高级工程师", "series": "工程技术", "specialty": "建筑工程",
                "level": "副高级", "dateQualified": "2025-06-30"}
        return applications.submit(s, registry, p[who], {**base, **facts})

    def review(app: Any, who: str, decision: str = "approve", reason: str | None = None, issue: bool = True) -> Any:
        return applications.review(s, registry, p[who], app.id, decision, reason, issue)

    # Submitted (awaiting the employer); under review at the supervisory department; at the bureau.
    apply("zhangwei", "self_appointment")
    a2 = apply("wangfang", "self_appointment", qualification="工程师", level="中级")
    review(a2, "employer")
    a3 = apply("liqiang", "entrusted_review", reviewBody="国家某部工程技术高级职称评审委员会")
    review(a3, "employer")
    review(a3, "supervisory")
    # Returned for correction by the exam body; rejected by the employer.
    a4 = apply("liuyang", "exam", examBodyId=made["exam"].id, qualification="助理工程师", level="助理级",
               series="工程技术", specialty="建筑工程")
    review(a4, "exam", "return", "考试合格证明编号缺失，请补充后重新提交")
    a5 = apply("chenjing", "self_appointment", qualification="正高级工程师", level="正高级")
    review(a5, "employer", "reject", "未满足正高级工程师任职年限要求")
    # A committee's upload: approved (left for a batch run), issued, revoked, suspended, reissued.
    rows = []
    for i, (name, pinyin) in enumerate([("赵磊", "Zhao Lei"), ("孙丽", "Sun Li"), ("周军", "Zhou Jun"),
                                        ("吴霞", "Wu Xia"), ("郑涛", "Zheng Tao")], start=1):
        rows.append({"name": name, "namePinyin": pinyin, "gender": "男" if i % 2 else "女",
                     "idNumber": _demo_id(100 + i * 2 + (0 if i % 2 else 1), born="19780615"),
                     "reportingUnit": "示例市住房和城乡建设局", "qualification": "高级工程师", "series": "工程技术",
                     "specialty": "结构工程", "level": "副高级", "dateQualified": "2025-11-20"})
    committee = made["committee"]
    result = uploads.upload(s, registry, p["committee"], committee.id, "json", json.dumps(rows).encode("utf-8"))
    apps = result.applications
    review(apps[0], "bureau", issue=False)  # approved, awaiting the batch run
    certs = [review(a, "bureau").certificate for a in apps[1:]]
    certificates.revoke(s, registry, p["bureau"], certs[1].id, "renting_out", "挂证，经查证属实")
    certificates.suspend(s, registry, p["bureau"], certs[2].id, "涉嫌违规使用，调查中")
    certificates.reissue(s, registry, p["bureau"], certs[3].id, "lost", "持证人报告证书文件遗失")
    # A paper conversion awaiting the district bureau.
    conv = conversion.submit(s, registry, p["yangmin"], {
        "series": "农业", "qualification": "高级农艺师", "specialty": "农学", "level": "副高级",
        "oldCertificateNumber": "NX2015-0042", "appointmentDocument": "宁人社函〔2015〕210号",
        "issueDate": "2015-12-12", "issuingBody": "宁夏回族自治区人力资源和社会保障厅"},
        {"cover1": conversion.PhotoUpload(_demo_png("cover 1"), "image/png"),
         "cover2": conversion.PhotoUpload(_demo_png("cover 2"), "image/png")})
    review(conv, "employer")
    # Historical records, and a query slip for one of them.
    csv_text = ("姓名,身份证号,资格名称,系列,专业,级别,证书编号,取得资格时间,发证单位,职称任职文件\n"
                f"张伟,{_demo_id(11)},工程师,工程技术,建筑工程,中级,J2009-1234,2009-12-01,示例市人事局,示人职〔2009〕12号\n"
                f"王芳,{_demo_id(22)},助理工程师,工程技术,建筑工程,助理级,Z2012-0456,2012-06-15,示例市人事局,\n")
    imported = legacy.import_records(s, registry, p["bureau"], "csv", csv_text.encode("utf-8"))
    slips.issue(s, registry, p["zhangwei"], legacy_record_id=imported.records[0].id)
    # A holder with an account and an issued certificate, for the holder pages and the scan page.
    a6 = apply("zhaomin", "self_appointment", namePinyin="Zhao Min")
    review(a6, "employer")
    review(a6, "supervisory")
    issued = review(a6, "bureau").certificate
    assert issued is not None and issued.id is not None
    return int(issued.id)
