"""Writes to the catalogue: providers, sync, pricing rules and bulk edits."""

from catalog.services.catalogue import (
    EnableResult,
    category_save,
    check_covers_cost,
    service_update,
    services_move,
    services_reprice,
    services_set_enabled,
    services_set_markup,
    user_rate_set,
)
from catalog.services.providers import (
    ConnectionCheck,
    provider_create,
    provider_keys_rotate,
    provider_test_connection,
    provider_update,
)
from catalog.services.sync import SyncResult, provider_sync_catalogue

__all__ = [
    "ConnectionCheck",
    "EnableResult",
    "SyncResult",
    "category_save",
    "check_covers_cost",
    "provider_create",
    "provider_keys_rotate",
    "provider_sync_catalogue",
    "provider_test_connection",
    "provider_update",
    "service_update",
    "services_move",
    "services_reprice",
    "services_set_enabled",
    "services_set_markup",
    "user_rate_set",
]
