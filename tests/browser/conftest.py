"""Browser-test fixtures: headless Chromium, a live server, and the demo store with its Celery on
the test Redis and mail going to the test SMTP server."""

import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.db import db
from portal.seed import DEMO_PASSWORD, seed_demo
from tests.apps import close_db, make_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Expectations wait up to 15 s (Playwright's default is 5 s): on a loaded 2-core machine a page
# behind a live server and a Celery worker can take longer than 5 s to settle. Only failures wait.
expect.set_options(timeout=15_000)


@pytest.fixture
def demo_app(request, tmp_path, redis_url, smtp_server):
    """The seeded demo store (DEMO_ORDERS from the test module, default 12). live_server and the
    Celery worker use it through a module-level `app` fixture that returns it."""
    controller, _ = smtp_server
    app = make_app(tmp_path, redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    with app.app_context(), db.connection_context():
        seed_demo(orders=getattr(request.module, "DEMO_ORDERS", 12))
    yield app
    close_db()


@pytest.fixture
def live_server(app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutdown() waits for the serving loop to notice.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (make test installs it where apt-get can)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def artifacts_dir():
    path = Path(os.environ.get("TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def person(browser, live_server, email_address, viewport=(1200, 900), **context):
    """A signed-in browser page of its own (separate cookies) for one demo login."""
    page = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                               **context).new_page()  # fmt: skip
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email_address)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name=re.compile("Sign out"))).to_be_visible()
    return page
