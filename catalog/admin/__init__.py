"""Admin for providers, the catalogue, custom rates and alerts. Actions call catalog.services."""

from catalog.admin.catalogue import CategoryAdmin, ServiceAdmin
from catalog.admin.other import CatalogAlertAdmin, RateChangeAdmin, UserRateAdmin
from catalog.admin.providers import ProviderAdmin

__all__ = [
    "CatalogAlertAdmin",
    "CategoryAdmin",
    "ProviderAdmin",
    "RateChangeAdmin",
    "ServiceAdmin",
    "UserRateAdmin",
]
