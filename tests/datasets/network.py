"""A generated signage network for tests of the analysis: screens, ads and a week of view events."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

WEEK_START = datetime(2026, 11, 16, tzinfo=UTC)


def signage_network(*, events: int = 100_000, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """20 screens, 50 ads and `events` view events over the week from WEEK_START, in the seed's shape."""
    rng = random.Random(seed)
    return {
        "signages": [{"signageId": f"screen-{n:02d}", "floor": n % 3} for n in range(20)],
        "targetedAds": [{"adId": f"ad-{n:02d}", "campaign": f"campaign-{n % 5}"} for n in range(50)],
        "viewEvents": [
            {
                "signageId": f"screen-{rng.randrange(20):02d}",
                "adId": f"ad-{rng.randrange(50):02d}",
                "viewedAt": (WEEK_START + timedelta(seconds=rng.randrange(7 * 24 * 3600))).isoformat(),
                "seconds": rng.randrange(1, 60),
            }
            for _ in range(events)
        ],
    }
