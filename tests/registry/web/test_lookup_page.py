"""The consent-gated lookup page against enumeration: every refusal is the same page (but for the
certificate number the verifier typed) after at least the same time, the ID number never comes back,
forms without this site's token do nothing; and the page in English in a real Chromium.

The answer path with a holder's consent, and the rate limit, are exercised in test_holder_portal.py.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from registry.kit import count
from registry.web.browser import LiveServer, Shots

from titlecred.db.models import LookupLog
from titlecred.services import consent
from titlecred.services.auth import principal_for

FORM_TOKEN = re.compile(r'name="form" value="([^"]+)"')


def go(page: Any, target: Any) -> None:
    """Click what loads a new page and wait for that page: a plain click returns before it is there,
    and the old page's elements would answer the next question."""
    with page.expect_navigation():
        target.click()


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    # The pages hold no rule of their own; the services under them are tested on both databases.
    return str(request.param)


def _consent_code(live: LiveServer, cert_id: int) -> str:
    from titlecred.db.models import Account

    world = live.world
    with world.sessions() as s:
        account = s.get(Account, world["holder"].account_id)
        _row, code = consent.create_code(s, world.registry, principal_for(s, account), cert_id)
    return code


def test_refusals_are_one_page_after_the_same_time_and_never_echo_the_id(live: LiveServer) -> None:
    world = live.world
    client = world.client
    cert = world.issued("holder")
    number, full_id = cert["certificateNumber"], world.ids["holder"]
    code = _consent_code(live, cert["id"])
    page = client.get("/lookup")
    token = FORM_TOKEN.search(page.text)
    assert token is not None and "tc_form" in client.cookies
    floor = world.registry.config.lookup_floor.total_seconds()

    def ask(num: str, id_number: str, consent_code: str) -> tuple[str, float]:
        started = time.monotonic()
        r = client.post("/lookup", data={"certificate_number": num, "id_number": id_number,
                                         "consent_code": consent_code, "verifier": "", "form": token.group(1)})
        took = time.monotonic() - started
        assert r.status_code == 403
        assert full_id not in r.text
        assert consent_code.upper() not in r.text.upper() or not consent_code
        # Only the number the verifier typed differs between refusals.
        return r.text.replace(f'value="{num}"', 'value="…"'), took

    answers = [
        ask("B1401022026999999", full_id, code),        # no such certificate
        ask(number, world.ids["holder2"], code),        # someone else's ID number
        ask(number, "11010519850312004X", code),        # an ID number that is not valid at all
        ask(number, full_id, "AAAA-AAAA"),              # a code that was never made
        ask(number, full_id, "not a code"),             # not even shaped like a code
    ]
    pages = {text for text, _ in answers}
    assert len(pages) == 1
    assert all(took >= floor for _, took in answers), [took for _, took in answers]
    # The real consent was not used up by the refusals: it still answers.
    r = client.post("/lookup", data={"certificate_number": number, "id_number": full_id, "consent_code": code,
                                     "form": token.group(1)})
    assert r.status_code == 200 and 'id="lookup-answer"' in r.text
    assert full_id not in r.text and "110***********" in r.text


def test_a_lookup_without_this_sites_form_token_does_nothing(live: LiveServer) -> None:
    world = live.world
    cert = world.issued("holder")
    before = count(world.sessions, LookupLog)
    r = world.client.post("/lookup", data={"certificate_number": cert["certificateNumber"],
                                           "id_number": world.ids["holder"], "consent_code": "AAAA-AAAA",
                                           "form": "forged-by-another-site-0000000000"})
    assert r.status_code == 403 and 'id="lookup-error"' in r.text
    assert world.ids["holder"] not in r.text
    assert count(world.sessions, LookupLog) == before


@pytest.mark.parametrize("viewport", ["phone"])
def test_the_lookup_page_in_english(page: Any, live: LiveServer, shots: Shots) -> None:
    world = live.world
    cert = world.issued("holder")
    full_id = world.ids["holder"]
    page.goto("/lookup")
    go(page, page.get_by_role("link", name="English"))
    assert page.get_by_role("heading", level=1).inner_text() == "Consent lookup"
    assert page.locator("#lookup-form").get_attribute("method") == "post"
    page.get_by_label("Certificate number").fill(cert["certificateNumber"])
    page.get_by_label("Holder's resident ID number").fill(full_id)
    page.get_by_label("Consent code").fill("AAAA-AAAA")
    go(page, page.get_by_role("button", name="Look up"))
    page.wait_for_load_state()
    assert page.locator("#lookup-error").inner_text().startswith("No answer")
    assert page.url == live.url + "/lookup"
    assert full_id not in page.content()
    assert page.get_by_label("Holder's resident ID number").input_value() == ""
    assert page.get_by_label("Certificate number").input_value() == cert["certificateNumber"]
    shots(page, "refused-en")

    code = _consent_code(live, cert["id"])
    page.get_by_label("Holder's resident ID number").fill(full_id)
    page.get_by_label("Consent code").fill(code)
    page.get_by_label("Your organization").fill("Example registration centre")
    go(page, page.get_by_role("button", name="Look up"))
    page.wait_for_load_state()
    assert page.locator("#lookup-answer [data-status='active']").inner_text() == "Valid"
    assert full_id not in page.content()
    shots(page, "answered-en")
