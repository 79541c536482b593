"""Which Stellar network the platform pays on, and the constants that follow from it.

Pure: settings in, keys and strings out. The local network's pool and USDC issuer are derived
from `SECRET_KEY`, so the embedded default keeps the same accounts across restarts without a
secret to configure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from stellar_sdk import Asset, Keypair, Network, StrKey

from app.config import Settings, StellarNetwork

LOCAL_PASSPHRASE = "ApexChainX Local Ledger ; 2026"  # noqa: S105 (a network name)
USDC = "USDC"
# Circle's USDC issuers.
USDC_ISSUERS = {
    StellarNetwork.testnet: "GBBD47IF6LWK7P7MDEVSCWR7DPUWV3NY3DTQEVFL4NAT4AQH3ZLLFLA5",
    StellarNetwork.public: "GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN",
}
PASSPHRASES = {
    StellarNetwork.local: LOCAL_PASSPHRASE,
    StellarNetwork.testnet: Network.TESTNET_NETWORK_PASSPHRASE,
    StellarNetwork.public: Network.PUBLIC_NETWORK_PASSPHRASE,
}
STROOPS = Decimal("0.0000001")


def derived_keypair(settings: Settings, purpose: str) -> Keypair:
    seed = hashlib.sha256(f"{purpose}:{settings.secret_key}".encode()).digest()
    return Keypair.from_raw_ed25519_seed(seed)


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    name: StellarNetwork
    passphrase: str
    usdc: Asset
    pool: Keypair
    # Only on the local ledger: the issuer's key, so the ledger's operator can mint USDC.
    issuer: Keypair | None
    base_fee: int
    tx_timeout_seconds: int

    @property
    def pool_address(self) -> str:
        return str(self.pool.public_key)

    def explorer_url(self, tx_hash: str | None) -> str | None:
        if tx_hash is None or self.name is StellarNetwork.local:
            return None
        return f"https://stellar.expert/explorer/{self.name.value}/tx/{tx_hash}"


def network_config(settings: Settings) -> NetworkConfig:
    name = settings.stellar_network
    passphrase = settings.stellar_network_passphrase or PASSPHRASES[name]
    issuer: Keypair | None = None
    if name is StellarNetwork.local:
        issuer = derived_keypair(settings, "local-usdc-issuer")
        issuer_address = str(issuer.public_key)
    else:
        issuer_address = settings.stellar_usdc_issuer or USDC_ISSUERS[name]
    if settings.stellar_pool_secret is not None:
        pool = Keypair.from_secret(settings.stellar_pool_secret.get_secret_value())
    else:
        pool = derived_keypair(settings, "local-pool")
    return NetworkConfig(
        name=name,
        passphrase=passphrase,
        usdc=Asset(USDC, issuer_address),
        pool=pool,
        issuer=issuer,
        base_fee=settings.stellar_base_fee_stroops,
        tx_timeout_seconds=settings.stellar_tx_timeout_seconds,
    )


def is_public_key(value: str) -> bool:
    return StrKey.is_valid_ed25519_public_key(value)


def is_secret_seed(value: str) -> bool:
    return StrKey.is_valid_ed25519_secret_seed(value)


def to_stroops(amount: Decimal) -> int:
    stroops = amount / STROOPS
    if stroops != stroops.to_integral_value():
        raise ValueError("Stellar amounts have at most 7 decimal places")
    return int(stroops)


def from_stroops(stroops: int) -> Decimal:
    return (Decimal(stroops) * STROOPS).quantize(STROOPS)


def amount_text(stroops: int) -> str:
    """The ledger's own notation: seven decimals, as a string ("1500.0000000")."""
    return f"{from_stroops(stroops):.7f}"
