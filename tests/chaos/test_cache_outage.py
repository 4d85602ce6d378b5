from typing import Any

import pytest

from panel.throttle import hit

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def test_it_lets_page_requests_through_when_the_cache_is_down(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Found by chaos scenario 4: with Redis stopped every web order was a 500.
    settings.CACHES = DEAD_REDIS

    assert hit(scope="order", user_id=1) is None
    assert "Rate limit order not counted: the cache is unreachable" in caplog.text
