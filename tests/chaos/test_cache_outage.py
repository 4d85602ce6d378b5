"""Found by chaos scenario 4: with Redis stopped, every order placed on the web or through
/api/v2 was a 500 (the rate limiters and the order form's category cache raised)."""

from typing import Any

import pytest

from orders.api import ratelimit
from orders.views.new_order import _categories
from panel.throttle import hit
from tests.factories import ServiceFactory

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def test_it_lets_page_requests_through_when_the_cache_is_down(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = DEAD_REDIS

    assert hit(scope="order", user_id=1) is None
    assert "Rate limit order not counted: the cache is unreachable" in caplog.text


def test_it_lets_api_requests_through_when_the_cache_is_down(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CACHES = DEAD_REDIS

    assert ratelimit.check_request(ip="127.0.0.1", raw_key="k" * 40) is None
    assert ratelimit.check_ip(ip="127.0.0.1") is None
    assert "API rate limits not counted: the cache is unreachable" in caplog.text


def test_it_lists_order_form_categories_when_the_cache_is_down(
    db: None, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    service = ServiceFactory(is_enabled=True)
    settings.CACHES = DEAD_REDIS

    assert [c.pk for c in _categories()] == [service.category_id]
    assert "Categories not cached: the cache is unreachable" in caplog.text
