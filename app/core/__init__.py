"""Cross-cutting pieces every feature uses."""
