"""The base layout: home page, navigation, self-hosted CSS, CSP header."""


def test_home_page_renders_with_navigation_and_csp(client, db):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "TransferHub" in html and 'href="/models"' in html and "/static/css/hub.css" in html
    assert "cdn" not in html.lower()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_csp_connect_src_is_the_hubs_own_origin(client, db):
    # The room's websocket is same-origin; a scheme source such as ws: or wss: would let
    # an injected script talk to any host.
    csp = client.get("/")["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    sources = directives["connect-src"]
    assert "'self'" in sources
    assert [source for source in sources if source.endswith(":")] == []  # no scheme-only source (ws:, wss:, https:)


def test_static_css_is_served(client, db):
    response = client.get("/static/css/hub.css")
    assert response.status_code == 200
