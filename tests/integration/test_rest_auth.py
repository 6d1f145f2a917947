"""REST API behaviour behind the contract: what is stored and logged (the conformance suite
checks the answers themselves)."""

from __future__ import annotations

import asyncio

from conformance.client import Rest, unique_email


async def test_password_never_leaves_or_is_stored(rest: Rest, stage, dynamodb):
    """Neither responses, the stage's logs nor any stored attribute hold the plain password."""
    email, password = unique_email(), "Secret-Canary-7431"
    responses = [
        await rest.post("/signup", {"email": email, "password": password, "username": "al"}),
        await rest.post("/login", {"email": email, "password": password}),
        await rest.post("/login", {"email": email, "password": password + "!"}),
        await rest.post("/signup", {"email": email, "password": password, "username": "al"}),
    ]
    for answer in responses:
        assert password not in answer.text
    assert password not in stage.logs()
    items = dynamodb.scan(TableName=stage.table("users"))["Items"]
    mine = [i for i in items if i.get("email", {}).get("S") == email]
    assert len(mine) == 1
    assert all(password not in str(value) for value in mine[0].values())
    assert mine[0]["passwordHash"]["S"].startswith("$2b$10$")


async def test_racing_signups_lose_no_user(rest: Rest):
    """Signups racing with refused duplicates all stay stored: every winner can log in."""
    taken = unique_email()
    await rest.post("/signup", {"email": taken, "password": "password1", "username": "t"})
    fresh = [unique_email() for _ in range(20)]
    calls = [
        rest.post("/signup", {"email": e, "password": "password1", "username": "n"}) for e in fresh
    ]
    calls += [
        rest.post("/signup", {"email": taken, "password": "password1", "username": "d"})
        for _ in range(20)
    ]
    answers = await asyncio.gather(*calls)
    assert [a.status for a in answers[:20]] == [201] * 20, [str(a) for a in answers[:20]]
    assert {a.status for a in answers[20:]} == {409}
    logins = await asyncio.gather(
        *(rest.post("/login", {"email": e, "password": "password1"}) for e in fresh)
    )
    assert [a.status for a in logins] == [200] * 20, [str(a) for a in logins]
