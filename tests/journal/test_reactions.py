"""The reactions registry: what docs/architecture.md draws is what runs."""

from __future__ import annotations

from pathlib import Path

from app.journal.reactions import REACTIONS
from app.reactions import DECLARATIONS, described, install

ROOT = Path(__file__).resolve().parents[2]


def test_the_architecture_document_draws_the_registry_as_declared() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    block = text.split("<!-- reactions:start -->")[1].split("<!-- reactions:end -->")[0]
    rows = block.strip().splitlines()[2:]  # under the table's header
    assert rows == described().splitlines()


def test_every_declared_reaction_is_installed_in_order() -> None:
    install()
    for kind in {kind for kind, _ in DECLARATIONS}:
        assert REACTIONS.of(kind) == tuple(r for k, r in DECLARATIONS if k == kind)
