"""An outage's life across features: the /outages routes, the use cases that span several
features (resolving: pauses, overrides, the SLA clock; importing history), and the outage as
the API shows it (its SLA status, pauses, override and payment). Above every feature it reads,
so none of them imports it."""
