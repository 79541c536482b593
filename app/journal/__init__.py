"""The journal: one call records a change (its audit row, its domain event, its timeline entry)
in the changing transaction, and one registry says what follows from it (`reactions.py`)."""
