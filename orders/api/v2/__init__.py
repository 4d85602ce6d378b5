"""The SMM API v2 server (`/api/v2`): what every reseller tool and child panel speaks."""
