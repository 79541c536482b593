"""The whole NOC surface, mounted under COMPAT_NOC_PREFIX when COMPAT_NOC_ENABLED."""

from __future__ import annotations

from app.compat.noc import auth, outages, sla, webhooks

NOC_ROUTERS = (auth.router, outages.router, sla.router, webhooks.router)
