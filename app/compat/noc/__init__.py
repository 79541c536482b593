"""The NOC frontend's compatibility surface (`/compat/noc/v1`, mounted when
COMPAT_NOC_ENABLED): thin adapters over the /api/v1 endpoints that rename fields, rewrap lists
and answer errors with a top-level `message`. No rule of its own lives here (record 0024)."""
