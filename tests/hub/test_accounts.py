"""Sign up, log in, log out, and the profile page."""

from __future__ import annotations

from hub.models import User


def test_sign_up_logs_the_new_user_in(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "dora",
            "email": "dora@example.org",
            "password1": "plum-orchard-77",
            "password2": "plum-orchard-77",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert User.objects.filter(username="dora").exists()
    assert "Welcome to TransferHub, dora" in response.content.decode()
    assert response.context["user"].username == "dora"


def test_sign_up_refuses_reserved_and_taken_names(client, owner):
    for name, message in [("api", "reserved"), ("ALICE", "taken"), ("-dash", "letters, digits")]:
        response = client.post(
            "/accounts/signup/", {"username": name, "password1": "plum-orchard-77", "password2": "plum-orchard-77"}
        )
        assert response.status_code == 400
        assert message in response.content.decode()


def test_log_in_and_log_out(client, owner):
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct-horse-battery"}, follow=True)
    assert response.context["user"].is_authenticated
    assert "Log out" in response.content.decode()
    response = client.post("/accounts/logout/", follow=True)
    assert not response.context["user"].is_authenticated


def test_wrong_password_shows_an_error(client, owner):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_profile_page_and_error_pages(client, owner):
    assert "alice" in client.get("/alice").content.decode()
    missing = client.get("/no-such-user")
    assert missing.status_code == 404 and "Nothing here" in missing.content.decode()
    api_missing = client.get("/api/no-such-endpoint")
    assert api_missing.status_code == 404 and api_missing.json()["error"] == "Not found."
