"""The REST API (`/api/v1/`): DRF adapters over the same selectors and order services."""
