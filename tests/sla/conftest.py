# The owner and the wallets of the payments tests: SLA outcomes here are paid on the local
# ledger as there.
from tests.payments.conftest import wallets  # noqa: F401
