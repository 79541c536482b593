"""The seed's sign-in answers carry the user's `stellar_wallet`: null until a wallet is
registered for the user, then its address, on login, refresh, /me and the user list."""

from __future__ import annotations

from tests.helpers import PASSWORD, Api


async def test_users_carry_their_stellar_wallet(api: Api) -> None:
    owner = await api.owner()
    engineer = await api.member(owner, "engineer")
    assert engineer.user["stellar_wallet"] is None

    # The seed's "Create a new Stellar wallet for a user", unchanged but for the id.
    created = await api.post("/wallets/create", owner, json={"user_id": engineer.user["id"]})
    assert created.status_code == 201, created.text
    address = created.json()["public_key"]

    seed_login = {"email": engineer.email, "password": PASSWORD}
    login = await api.client.post("/api/v1/auth/login", json=seed_login)
    assert login.status_code == 200, login.text
    assert login.json()["user"]["stellar_wallet"] == address
    assert login.json()["user"]["role"] == "engineer"

    seed_refresh = {"refresh_token": login.json()["refresh_token"]}
    refreshed = await api.client.post("/api/v1/auth/refresh", json=seed_refresh)
    assert refreshed.json()["user"]["stellar_wallet"] == address

    me = await api.get("/auth/me", engineer)
    assert me.json()["stellar_wallet"] == address
    listed = {
        u["id"]: u["stellar_wallet"] for u in (await api.get("/users", owner)).json()["results"]
    }
    assert listed == {owner.user["id"]: None, engineer.user["id"]: address}
