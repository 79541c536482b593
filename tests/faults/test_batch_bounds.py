"""A batch of refused reports answers with a bounded report (issue 24.4)."""

from tests.faults.test_faults import SEED
from tests.helpers import Api


async def test_unknown_fields_are_listed_ten_per_report(api: Api) -> None:
    owner = await api.owner()
    item = {**SEED, **{f"unknown_{n}": n for n in range(12)}}
    response = await api.post("/faults/batch", owner, json={"faults": [item] * 1000})
    assert response.status_code == 200, response.text[:300]
    results = response.json()["results"]
    assert len(results) == 1000 and {r["status"] for r in results} == {"refused"}
    errors = results[0]["errors"]
    assert len(errors) == 11
    assert errors[-1] == {"loc": [], "msg": "and 2 more errors", "type": "too_many_errors"}
    assert [e["loc"] for e in errors[:10]] == [[f"unknown_{n}"] for n in range(10)]
