"""Logging in and signing up as a new user would: where focus goes after each step, every
field's error at once and announced, plain wording, the display name's limit, showing the
password, and logging in instead when the e-mail is taken."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import (
    Person,
    api_token,
    email_field,
    expect_connected,
    fill_auth_form,
    password_field,
    sign_up,
    unique_person,
)


def test_focus_starts_on_the_email_and_goes_back_there_after_switching_forms_and_logging_out(
    new_page, stage
):
    """The e-mail field has focus on load, after "Create an account", after "Log in" and after
    logging out — never the page's body or the link just clicked."""
    page = new_page()
    page.goto(stage.web_url)
    expect(page).to_have_title("Log in · chatstack")
    expect(email_field(page)).to_be_focused()

    page.get_by_role("button", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    expect(email_field(page)).to_be_focused()
    expect(page).to_have_title("Sign up · chatstack")

    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    expect(email_field(page)).to_be_focused()

    sign_up(page, stage.web_url, unique_person("kim"), go=False)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    expect(email_field(page)).to_be_focused()


def test_a_failed_login_is_announced_and_puts_focus_on_the_password(new_page, stage):
    """Wrong credentials: an alert says so in plain words and the password is focused, selected
    for typing again; empty fields each get their own error at once."""
    ada = unique_person("ada")
    api_token(stage.rest_url, ada)
    page = new_page()
    page.goto(stage.web_url)

    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        ["Enter your email address.", "Enter your password."]
    )
    expect(email_field(page)).to_be_focused()

    fill_auth_form(page, Person(ada.email, ada.username, "wrong password"), signup=False)
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(password_field(page)).to_be_focused()
    page.keyboard.type(ada.password)  # the wrong one was selected: typing replaces it
    page.keyboard.press("Enter")
    expect_connected(page)


def test_sign_up_shows_and_announces_every_fields_error_at_once_in_plain_words(new_page, stage):
    """An empty sign-up gets one alert per field, worded for the field as labelled ("Email",
    "Display name"), focus on the first; the password hint is not repeated by its error."""
    page = new_page()
    page.goto(stage.web_url)
    page.get_by_role("button", name="Create an account").click()
    expect(page.get_by_text("At least 8 characters.")).to_be_visible()

    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("alert")).to_have_text(
        ["Enter your email address.", "Enter a display name.", "Choose a password."]
    )
    for label in ("Email", "Display name", "Password"):
        expect(page.get_by_label(label, exact=True)).to_have_attribute("aria-invalid", "true")
    expect(email_field(page)).to_be_focused()
    expect(page.get_by_text(re.compile(r"e-mail|username", re.I))).to_have_count(0)

    fill_auth_form(page, Person("not-an-email", "Ada", "short"), signup=True)
    expect(page.get_by_role("alert")).to_have_text(
        [
            "Enter an email address like name@example.com.",
            "Use at least 8 characters; this one has 5.",
        ]
    )
    expect(page.get_by_text(re.compile("8 characters"))).to_have_count(1)  # the error, not the hint
    expect(password_field(page)).to_have_accessible_description(
        "Use at least 8 characters; this one has 5."
    )


def test_a_display_name_over_the_limit_is_kept_and_explained_not_cut(new_page, stage):
    """The limit is stated before typing; a longer name stays as typed, with an alert saying
    how long it is, and cannot be sent until it fits."""
    page = new_page()
    page.goto(stage.web_url)
    page.get_by_role("button", name="Create an account").click()
    name = page.get_by_label("Display name")
    expect(name).to_have_accessible_description(
        "Others see it beside your messages. Up to 32 characters."
    )
    name.fill("A" * 40)
    expect(name).to_have_value("A" * 40)
    expect(page.get_by_role("alert")).to_have_text(
        "A display name can be at most 32 characters; this one has 40."
    )
    fill_auth_form(page, Person(unique_person("x").email, "A" * 40, "correct horse 1"), signup=True)
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    expect(name).to_be_focused()
    name.fill("A" * 32)
    expect(page.get_by_role("alert")).to_have_count(0)


def test_the_password_can_be_shown_and_hidden_again(new_page, stage):
    """ "Show password" reveals what was typed and becomes "Hide password"; pressing it again
    hides it."""
    page = new_page()
    page.goto(stage.web_url)
    password_field(page).fill("correct horse 1")
    expect(password_field(page)).to_have_attribute("type", "password")
    page.get_by_role("button", name="Show password").click()
    expect(password_field(page)).to_have_attribute("type", "text")
    expect(password_field(page)).to_have_value("correct horse 1")
    page.get_by_role("button", name="Hide password").click()
    expect(password_field(page)).to_have_attribute("type", "password")


def test_a_taken_email_offers_a_real_log_in_instead_button(new_page, stage):
    """Signing up with a registered e-mail says so under the field with a "Log in instead"
    button, which opens the login form with the e-mail and password kept, focus on the
    password."""
    ada = unique_person("ada")
    api_token(stage.rest_url, ada)
    page = new_page()
    page.goto(stage.web_url)
    page.get_by_role("button", name="Create an account").click()
    fill_auth_form(page, ada, signup=True)
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^That email is already registered\.\s*Log in instead$")
    )
    expect(email_field(page)).to_be_focused()
    page.get_by_role("button", name="Log in instead").click()
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    expect(email_field(page)).to_have_value(ada.email)
    expect(password_field(page)).to_be_focused()
    expect(password_field(page)).to_have_value(ada.password)
    page.keyboard.press("Enter")
    expect_connected(page)
