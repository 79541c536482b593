import pytest

from tests.helpers import Api

CASES = [
    ("o.csv", b"site_name,severity,latitude\nX,low,abc\n"),
    ("o.csv", b"site_name,severity,extra\nX,low,1,2,3\n"),
    ("o.csv", b"site_name,severity\nX,low\x00\n"),
    ("o.csv", b"\xff\xfe\x00"),
    ("o.json", b'{"outages": "x"}'),
    ("o.json", b"[" * 5000 + b"]" * 5000),
    ("o.json", b"[1, 2]"),
    ("o.json", b'[{"site_name":"a","severity":"low","location":{"latitude":1e999,"longitude":0}}]'),
    ("o.json", b'[{"site_name":"a","severity":"low","affected_subscribers":1e400}]'),
    ("o.json", b'[{"site_name":"a","severity":"low","detected_at":"2020-01-01T00:00:00"}]'),
    ("o.csv", b""),
    ("o.csv", b"site_name,severity\n" + b"X,low\n" * 1001),
    ("o.json", b"NaN"),
    ("o.json", b'{"outages":[{"site_name":"a","severity":"low"}], "x": 1}'),
]


@pytest.mark.parametrize("name,content", CASES)
async def test_import(api: Api, name: str, content: bytes) -> None:
    s = await api.owner()
    r = await api.post(
        "/outages/import", s, files={"file": (name, content, "application/octet-stream")}
    )
    print("IMPORT", name, content[:40], r.status_code, r.text[:160])
    assert r.status_code in (201, 413, 422)


async def test_two_files(api: Api) -> None:
    s = await api.owner()
    r = await api.post(
        "/outages/import",
        s,
        files=[
            ("file", ("a.csv", b"site_name,severity\nX,low\n")),
            ("file", ("b.csv", b"site_name,severity\nX,low\n")),
        ],
    )
    print("TWO", r.status_code, r.text[:200])
    r = await api.post(
        "/outages/import",
        s,
        content=b"--xx\r\nbroken",
        headers={"content-type": "multipart/form-data; boundary=xx"},
    )
    print("BROKEN", r.status_code, r.text[:200])
    r = await api.post("/outages/import", s, content=b"{}", headers={"content-type": "text/plain"})
    print("PLAIN", r.status_code, r.text[:200])
