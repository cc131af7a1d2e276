"""Schemathesis over the OpenAPI document: generated requests to every operation never get a 5xx.

One registry per backend, signed in as the bureau (the widest role), a bounded number of examples per
operation so the run stays about a minute; schemathesis's `not_a_server_error` check on each answer.
"""

from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from registry.kit import World
from schemathesis.checks import not_a_server_error

EXAMPLES = 8
BUDGET_SECONDS = 60.0


def test_no_generated_request_gets_a_server_error(world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    headers = world["bureau"].h
    failures: list[str] = []
    started = time.monotonic()
    operations = 0
    calls: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            calls.append(response.status_code)
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except (AssertionError, BaseExceptionGroup) as e:  # collected: one run reports every fault
                failures.append(f"{case.method} {case.formatted_path}: {str(e)[:300]}")

        run()
        if time.monotonic() - started > BUDGET_SECONDS * 2:
            break
    print(f"{operations} operations, {len(calls)} requests, statuses {sorted(set(calls))}")
    assert operations > 20
    assert not failures, "\n".join(failures)
