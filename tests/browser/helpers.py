"""Steps of a person using the web app, and a few looks behind it, for the browser tests.

Elements are found as a person or a screen reader finds them: by role, label and text.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

PASSWORD = "correct horse 1"


@dataclass
class Person:
    email: str
    username: str
    password: str = PASSWORD


def unique_person(name: str) -> Person:
    return Person(f"{name}-{uuid.uuid4().hex[:10]}@example.test", name)


def unique_room(prefix: str = "room") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def connection_status(page: Page) -> Locator:
    """The connection's status in the page's top bar ("Connected", "Offline", ...)."""
    return page.get_by_role("banner").get_by_role("status")


def expect_connected(page: Page) -> None:
    expect(connection_status(page)).to_have_text("Connected")


def email_field(page: Page) -> Locator:
    return page.get_by_label("Email", exact=True)


def password_field(page: Page) -> Locator:
    return page.get_by_label("Password", exact=True)


def fill_auth_form(page: Page, person: Person, *, signup: bool) -> None:
    email_field(page).fill(person.email)
    if signup:
        page.get_by_label("Display name").fill(person.username)
    password_field(page).fill(person.password)
    page.get_by_role("button", name="Sign up" if signup else "Log in", exact=True).click()


def sign_up(page: Page, web_url: str, person: Person, *, go: bool = True) -> Person:
    """Create the account through the form; the app logs in and opens the chat."""
    if go:
        page.goto(web_url)
    page.get_by_role("button", name="Create an account").click()
    fill_auth_form(page, person, signup=True)
    expect(page.get_by_text(f"Logged in as {person.username}")).to_be_visible()
    expect_connected(page)
    return person


def composer(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message #")


def send(page: Page, text: str) -> None:
    """Type ``text`` (newlines with Shift+Enter) and press Enter."""
    box = composer(page)
    for index, line in enumerate(text.split("\n")):
        if index:
            box.press("Shift+Enter")
        box.press_sequentially(line)
    box.press("Enter")


def message_list(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^Messages in #"))


def messages(page: Page, text: str | None = None) -> Locator:
    """The stored messages shown (those with a time, not those still pending), optionally
    those whose text is ``text``."""
    items = message_list(page).get_by_role("listitem").filter(has=page.get_by_role("time"))
    if text is not None:
        items = items.filter(has=page.get_by_text(text, exact=True))
    return items


def pending_messages(page: Page, state: str) -> Locator:
    """Messages not stored yet, by what they say of themselves ("Waiting for connection")."""
    return message_list(page).get_by_role("listitem").filter(has_text=state)


def room_heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def join_room(page: Page, room: str) -> None:
    page.get_by_label("Join a room").fill(room)
    page.get_by_role("button", name="Join", exact=True).click()
    expect(room_heading(page)).to_have_text(f"#{room}")


def user_id(page: Page) -> str:
    return page.evaluate("JSON.parse(localStorage.getItem('chatstack.session')).user.userId")


def connection_ids(dynamodb, table: str, user: str) -> list[str]:
    """The ids of a user's open WebSocket connections, from the stage's Connections table."""
    paginator = dynamodb.get_paginator("scan")
    ids: list[str] = []
    for page in paginator.paginate(
        TableName=table,
        FilterExpression="sk = :meta AND userId = :user",
        ExpressionAttributeValues={":meta": {"S": "meta"}, ":user": {"S": user}},
        ConsistentRead=True,
    ):
        ids += [item["connectionId"]["S"] for item in page["Items"]]
    return ids


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def api_token(rest_url: str, person: Person) -> str:
    """Sign up and log in over REST, for a participant that is not a browser."""
    post_json(
        f"{rest_url}/signup",
        {"email": person.email, "password": person.password, "username": person.username},
    )
    return post_json(f"{rest_url}/login", {"email": person.email, "password": person.password})[
        "token"
    ]


AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page: Page, axe_script: str) -> list[dict]:
    """Run axe-core (from the front end's node_modules) on the page; its violations, briefly."""
    page.add_script_tag(path=axe_script)
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
            return result.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
            }));
        }""",
        AXE_RULES,
    )
