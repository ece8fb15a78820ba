"""
The API fuzzed against its own OpenAPI schema with schemathesis: generated valid and invalid
requests for every operation must never get a 5xx, and every answer must match the schema (status
code, content type, body). Bounded to about two minutes in all.
"""

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from config.wsgi import application

CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            # Schema-valid requests may still be refused with 400 by design: OpenAI's API answers
            # 400 for state conflicts (a run already active) and unknown cursors.
            "positive_data_acceptance": {"enabled": False},
            # Invalid requests may also be refused as too large (413), as the schema documents.
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]
            },
        }
    }
)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", application, config=CONFIG)


@schema.parametrize()
@hypothesis_settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same cases on every run: CI stays reproducible
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_the_api_honours_its_schema(case, fake_provider, in_process_requests):
    case.call_and_validate()
