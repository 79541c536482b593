"""The Stellar network this instance settles on."""

from __future__ import annotations

from fastapi import Request

from app.config import StellarNetwork
from app.core.routing import APIRouter
from app.identity.dependencies import CurrentPrincipal
from app.stellar.runtime import stellar_for
from app.stellar.schemas import StellarNetworkOut

router = APIRouter(prefix="/stellar", tags=["Payments"])


@router.get("/network", response_model=StellarNetworkOut, summary="The Stellar network in use")
async def get_stellar_network(principal: CurrentPrincipal, request: Request) -> StellarNetworkOut:
    """The network name and passphrase (to sign a penalty's envelope), its Horizon and RPC
    URLs, the USDC asset and the pool account, and the explorer base URL."""
    settings = request.app.state.settings
    network = stellar_for(request.app.state.database).network
    remote = network.name is not StellarNetwork.local
    return StellarNetworkOut(
        network=network.name,
        passphrase=network.passphrase,
        horizon_url=settings.stellar_horizon_url if remote else None,
        rpc_url=settings.stellar_rpc_url if remote else None,
        usdc_code=network.usdc.code,
        usdc_issuer=network.usdc.issuer or "",
        pool_address=network.pool_address,
        explorer_url=f"https://stellar.expert/explorer/{network.name.value}/tx/"
        if remote
        else None,
    )
