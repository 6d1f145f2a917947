"""Chats in the web app (contract v2), three people in three browsers: a 1:1 started by searching
a username, a group created with a name and members, live updates of the conversation list, a
member added and one leaving — and a third person who sees neither chat."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Locator, Page, expect

from tests.browser.helpers import Person, room_heading, sign_up


def unique_user(name: str) -> Person:
    """A person whose username no other test's user starts with (the people search is by prefix)."""
    tag = uuid.uuid4().hex[:8]
    return Person(f"{name}-{tag}@example.test", f"{name}{tag}")


def conversation_list(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Conversations").get_by_role("listitem")


def conversation(page: Page, title: str) -> Locator:
    """The conversation's button in the list (its name is the title, then any unread count)."""
    return page.get_by_role("navigation", name="Conversations").get_by_role(
        "button", name=re.compile(rf"^{re.escape(title)}(, \d+ unread)?$")
    )


def chat_messages(page: Page, text: str) -> Locator:
    """Stored messages (those with a time) of the conversation on screen whose text is ``text``."""
    region = page.get_by_role("region", name=re.compile(r"^Messages in "))
    items = region.get_by_role("listitem").filter(has=page.get_by_role("time"))
    return items.filter(has=page.get_by_text(text, exact=True))


def say(page: Page, text: str) -> None:
    box = page.get_by_role("textbox", name=re.compile(r"^Message "))
    box.fill(text)
    box.press("Enter")


def find_people(page: Page, label: str, username: str) -> Locator:
    """Type ``username`` into the search field ``label``; the list of people it found."""
    page.get_by_role("searchbox", name=label).fill(username)
    return page.get_by_role("list", name=f"{label}: results")


def start_direct_chat(page: Page, other: Person) -> None:
    page.get_by_role("button", name="New chat", exact=True).click()
    found = find_people(page, "Find people", other.username)
    found.get_by_role("button", name=f"Message {other.username}").click()
    expect(room_heading(page)).to_have_text(other.username)


def create_group(page: Page, name: str, members: list[Person]) -> None:
    page.get_by_role("button", name="New chat", exact=True).click()
    for member in members:
        found = find_people(page, "Find people", member.username)
        found.get_by_role("button", name=f"Add {member.username} to the group").click()
    page.get_by_label("Group name").fill(name)
    page.get_by_role("button", name="Create group").click()
    expect(room_heading(page)).to_have_text(name)


def test_a_direct_chat_and_a_group_reach_their_people_and_no_one_else(new_page, stage, screenshots):
    """Ann finds Bob by username and messages him, then makes a group with him: Bob's list
    shows both live, with unread counts and previews; Cat, in neither, sees neither; added to
    the group later, Cat gets it live with its history; Bob leaves and stops receiving."""
    ann_page, bob_page, cat_page = new_page(), new_page(), new_page()
    ann = sign_up(ann_page, stage.web_url, unique_user("ann"))
    bob = sign_up(bob_page, stage.web_url, unique_user("bob"))
    cat = sign_up(cat_page, stage.web_url, unique_user("cat"))

    # A 1:1, started by searching a username; Bob's list gets it live, unread, with a preview.
    start_direct_chat(ann_page, bob)
    expect(conversation(bob_page, ann.username)).to_be_visible()  # chatAdded, before any message
    say(ann_page, "hi bob, just us")
    expect(chat_messages(ann_page, "hi bob, just us")).to_have_count(1)
    direct_for_bob = conversation(bob_page, ann.username)
    expect(direct_for_bob).to_have_accessible_name(f"{ann.username}, 1 unread")
    expect(direct_for_bob).to_have_accessible_description(f"{ann.username}: hi bob, just us")
    direct_for_bob.click()
    expect(chat_messages(bob_page, "hi bob, just us")).to_have_count(1)
    # The chat on screen is in the address: a reload shows it again, Back leads to the room.
    expect(bob_page).to_have_url(re.compile(r"[?&]chat=[A-Za-z0-9_-]+$"))
    bob_page.reload()
    expect(room_heading(bob_page)).to_have_text(ann.username)
    expect(chat_messages(bob_page, "hi bob, just us")).to_have_count(1)
    bob_page.go_back()
    expect(room_heading(bob_page)).to_have_text("#general")
    bob_page.go_forward()
    expect(room_heading(bob_page)).to_have_text(ann.username)
    say(bob_page, "hi ann")
    expect(chat_messages(ann_page, "hi ann")).to_have_count(1)

    # A group with a name; it goes to the top of Bob's list.
    group = f"plans-{uuid.uuid4().hex[:6]}"
    create_group(ann_page, group, [bob])
    expect(conversation(bob_page, group)).to_be_visible()
    say(ann_page, "welcome to the group")
    expect(conversation(bob_page, group)).to_have_accessible_name(f"{group}, 1 unread")
    expect(conversation_list(bob_page).first).to_contain_text(group)
    conversation(bob_page, group).click()
    expect(chat_messages(bob_page, "welcome to the group")).to_have_count(1)
    ann_page.screenshot(path=screenshots / "chats-group.png")

    # Cat is in neither: a link to the group opens general with a notice (the address too),
    # the list is general alone, the page shows none of their messages — although both chats
    # have carried messages Bob's browser has shown.
    cat_page.goto(ann_page.url)
    expect(cat_page.get_by_role("alert")).to_contain_text("isn't available")
    expect(room_heading(cat_page)).to_have_text("#general")
    expect(cat_page).to_have_url(re.compile(r"[?&]room=general$"))
    expect(conversation_list(cat_page)).to_have_count(1)
    expect(conversation(cat_page, "general")).to_be_visible()
    for text in ("hi bob, just us", "hi ann", "welcome to the group"):
        expect(cat_page.get_by_text(text)).to_have_count(0)
    # The people search shows Ann by name only, never her e-mail address.
    cat_page.get_by_role("button", name="New chat", exact=True).click()
    found = find_people(cat_page, "Find people", ann.username)
    expect(found.get_by_role("listitem")).to_have_count(1)
    expect(found).to_contain_text(ann.username)
    expect(cat_page.get_by_text(ann.email)).to_have_count(0)
    cat_page.get_by_role("button", name="Close").click()

    # Ann adds Cat to the group: Cat's list gets it live, and Cat reads the history.
    ann_page.get_by_role("button", name="Add people").click()
    added = find_people(ann_page, "Add people", cat.username)
    added.get_by_role("button", name=f"Add {cat.username}").click()
    expect(ann_page.get_by_label("People in this chat")).to_contain_text(cat.username)
    conversation(cat_page, group).click()
    expect(room_heading(cat_page)).to_have_text(group)
    expect(chat_messages(cat_page, "welcome to the group")).to_have_count(1)
    expect(conversation_list(cat_page)).to_have_count(2)  # general and the group, not the 1:1

    # Bob leaves: the group goes from his list; what Ann sends next reaches Cat, not Bob.
    bob_page.get_by_role("button", name="Leave group").click()
    expect(conversation(bob_page, group)).to_have_count(0)
    expect(room_heading(bob_page)).to_have_text("#general")
    say(ann_page, "bob has gone")
    expect(chat_messages(cat_page, "bob has gone")).to_have_count(1)
    conversation(bob_page, ann.username).click()
    say(bob_page, "still here in our chat")
    expect(chat_messages(ann_page, "bob has gone")).to_have_count(1)
    direct_for_ann = conversation(ann_page, bob.username)
    expect(direct_for_ann).to_have_accessible_name(f"{bob.username}, 1 unread")
    expect(bob_page.get_by_text("bob has gone")).to_have_count(0)
    expect(conversation(cat_page, bob.username)).to_have_count(0)
