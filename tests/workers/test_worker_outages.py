"""Nothing is lost when Redis or SMTP is down (rule 5). Each test stops only a server it started
itself: its own redis-server on a free port, its own aiosmtpd."""

import collections
import re
import time

import pytest

from portal.db import db
from portal.local_redis import LocalRedis, free_port
from portal.models import OutboxMessage, Return
from portal.outbox.messages import enqueue_email
from tests import factories, pages
from tests.apps import make_app
from tests.pages import login
from tests.processes import Processes, log_count, wait_for_log
from tests.smtp import Mailbox
from tests.waiting import broker_idle, wait_until


def message_ids(messages):
    return collections.Counter(re.search(r"Message-ID: (\S+)", m[2]).group(1) for m in messages)


# beat.log, once per tick whose sweep could not be published (Redis down)
FAILED_SWEEP = "Message Error: Couldn't apply scheduled task outbox-sweep"


def sweeps_done(worker):
    """How many outbox sweeps the worker process has finished (its log says so for each)."""
    return len(
        re.findall(r"Task tasks\.outbox\.sweep\[[^\]]+\] succeeded", worker.log_path.read_text())
    )


# --- Redis down while a shopper submits a return ----------------------------------------------


@pytest.fixture
def own_redis(tmp_path):
    folder = tmp_path / "own-redis"
    folder.mkdir()
    server = LocalRedis(folder).start()
    yield server
    server.stop()


@pytest.fixture
def redis_down_app(tmp_path, own_redis, smtp_server):
    controller, _ = smtp_server
    app = make_app(tmp_path, own_redis.url, MAIL_SERVER=controller.hostname,
                   MAIL_PORT=controller.port, OUTBOX_SWEEP_GRACE_SECONDS=0.5)  # fmt: skip
    yield app
    if not db.is_closed():
        db.close()


@pytest.mark.slow  # Redis stopped and started again: ~10 s
def test_redis_down_while_a_shopper_submits_a_return(tmp_path, redis_down_app, own_redis,
                                                     smtp_server, make):  # fmt: skip
    app, (controller, mailbox) = redis_down_app, smtp_server
    procs = Processes(tmp_path, {
        "DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": own_redis.url,
        "PORTAL_INSTANCE": app.instance_path, "PORTAL_DOTENV": str(tmp_path / "no.env"),
        "SECRET_KEY": "test-secret", "MAIL_SERVER": controller.hostname,
        "MAIL_PORT": controller.port, "OUTBOX_SWEEP_SECONDS": 1, "OUTBOX_SWEEP_GRACE_SECONDS": 0.5,
    })  # fmt: skip
    try:
        worker = procs.worker("w1")
        beat = procs.beat()
        wait_for_log(beat, "Sending due task outbox-sweep", 30)  # beat is up and publishing
        with app.app_context():
            reasons = factories.reasons()
            _, order, lines = factories.shop()
        client = app.test_client()
        login(client, "sam@example.com")
        page = client.get("/orders/R-1001/return").get_data(as_text=True)
        data = pages.request_data(pages.line_indexes(page),
                               {lines["TEE-M"].id: (1, reasons["fit_small"].id, "Too small")})  # fmt: skip
        digest = pages.reviewed_digest(
            client.post("/orders/R-1001/return", data=data).get_data(True)
        )

        failed_ticks = log_count(beat, FAILED_SWEEP)
        own_redis.stop()  # Redis goes down
        started = time.monotonic()
        response = client.post("/orders/R-1001/return",
                               data=dict(data, step="confirm", reviewed=digest))  # fmt: skip
        took = time.monotonic() - started
        assert response.status_code == 303, pages.errors(response.get_data(as_text=True))
        assert took < 5, f"the request waited {took:.1f}s on a dead broker"
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        with app.app_context():
            rma = Return.get()
            pending = list(OutboxMessage.select().where(OutboxMessage.status == "pending"))
        # the return is saved and the page says so; its emails wait in the outbox
        assert f"Return {rma.reference} requested" in page
        assert rma.reference in page and "Return requested" in page
        assert {m.payload["template"] for m in pending} >= {"return_requested"}
        # Nothing can go out while Redis is down. Rather than sleep, wait until what could send
        # it has run and failed: the worker has lost its broker, and two sweeps the beat was
        # due to publish (the sweeper is what delivers messages left pending) could not be.
        wait_for_log(worker, "Connection to broker lost", 30)
        wait_until(lambda: log_count(beat, FAILED_SWEEP) >= failed_ticks + 2, 30, 0.1,
                   "two failed sweep ticks")  # fmt: skip
        assert mailbox.messages == []

        own_redis.start()  # back on the same port; nobody touches anything else
        confirmation = wait_until(
            lambda: [m for m in mailbox.messages if m[1] == ["sam@example.com"]], 90, 0.2,
            "the confirmation email",
        )  # fmt: skip
        assert "Subject: " in confirmation[0][2] and rma.reference in confirmation[0][2]
        with app.app_context():
            wait_until(lambda: OutboxMessage.select().where(
                OutboxMessage.status != "sent").count() == 0, 30, message="all sent")  # fmt: skip
            sent = OutboxMessage.select().count()
        # Sweeps keep running: nothing goes out twice. Instead of sleeping, wait until the
        # worker has carried out two more sweeps after every message was sent (a sweep is what
        # would publish a message again) and every task published so far has run to its end.
        swept = sweeps_done(worker)
        wait_until(lambda: sweeps_done(worker) >= swept + 2 and broker_idle(own_redis.url), 30,
                   0.1, "two more sweeps, and no task left")  # fmt: skip
        assert len(mailbox.messages) == sent
        assert set(message_ids(mailbox.messages).values()) == {1}
    except Exception:
        print(procs.logs())
        raise
    finally:
        procs.stop_all()


# --- SMTP down --------------------------------------------------------------------------------


class PickyMailbox(Mailbox):
    """Refuses nobody@...: a permanent failure (550) for one recipient."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@") and not getattr(self, "accept_all", False):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class SmtpServer:
    def __init__(self):
        self.port, self.mailbox, self.controller = free_port(), PickyMailbox(), None

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def own_smtp():
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def app(tmp_path, redis_url, own_smtp):
    app = make_app(tmp_path, redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=own_smtp.port,
                   OUTBOX_BACKOFF_BASE=0.2, OUTBOX_MAX_ATTEMPTS=12,
                   OUTBOX_SWEEP_GRACE_SECONDS=0.5)  # fmt: skip
    yield app
    if not db.is_closed():
        db.close()


def queue_emails(make, count, to=None):
    order = make.order()
    with db.atomic():
        rma = factories.make_return(order)
        for i in range(count):
            enqueue_email("refund_sent", to or f"shopper{i}@example.com", f"test:mail:{i}", rma=rma,
                          context={"amount": 100 + i, "currency": "USD", "method": "card",
                                   "reference": f"ref-{i}"})  # fmt: skip
    return rma


@pytest.mark.slow  # SMTP down through several retries
def test_smtp_down_emails_wait_and_go_once_when_it_is_back(app, make, celery_worker, own_smtp,
                                                           client, auth, redis_url):  # fmt: skip
    with app.app_context():
        queue_emails(make, 5)
        # SMTP is down: every message is retried with backoff, none is lost
        wait_until(lambda: OutboxMessage.select().where(OutboxMessage.attempts >= 2).count() == 5,
                   30, message="retries")  # fmt: skip
        waiting = list(OutboxMessage.select())
        assert {m.status for m in waiting} == {"pending"}
        assert all("SMTP unavailable" in m.last_error for m in waiting)
        auth(client, make.staff("agent").email)
        page = client.get("/merchant/operations").get_data(as_text=True)
        assert '<dd data-testid="outbox-pending">5</dd>' in page and "SMTP unavailable" in page

        own_smtp.start()
        messages = own_smtp.mailbox.wait_for(5, timeout=60)
        wait_until(lambda: OutboxMessage.select().where(OutboxMessage.status == "sent").count() == 5,
                   30, message="all sent")  # fmt: skip
        # No beat here: only the retries already published (with their countdowns) could send
        # a message again. Rather than sleep, wait until each of them has run to its end (the
        # broker holds no task, queued or unacked), then count.
        wait_until(lambda: broker_idle(redis_url), 30, message="no delivery task left")
        assert len(messages) == 5
        ids = message_ids(messages)
        assert set(ids.values()) == {1}
        assert set(ids) == {f"<outbox-{m.id}@returns.portal>" for m in waiting}


def test_a_permanent_smtp_refusal_is_failed_visible_and_retryable(app, make, celery_worker,
                                                                  own_smtp, client, auth):  # fmt: skip
    own_smtp.start()
    with app.app_context():
        rma = queue_emails(make, 1, to="nobody@example.com")
        message = OutboxMessage.get()
        wait_until(lambda: OutboxMessage.get_by_id(message.id).status == "failed", 30,
                   message="failed")  # fmt: skip
        failed = OutboxMessage.get_by_id(message.id)
        assert failed.attempts == 1 and "550" in failed.last_error
        manager = make.staff("manager")
        auth(client, manager.email)
        page = client.get("/merchant/operations").get_data(as_text=True)
        assert f'id="message-{message.id}"' in page and "No such user" in page
        assert rma.reference in page and "nobody@example.com" in page

        own_smtp.mailbox.accept_all = True  # the address was fixed on the mail server
        response = client.post(f"/merchant/operations/messages/{message.id}/retry",
                               headers={"HX-Request": "true"})  # fmt: skip
        assert response.status_code == 200 and "queued again" in response.get_data(as_text=True)
        [delivered] = own_smtp.mailbox.wait_for(1, timeout=30)
        assert delivered[1] == ["nobody@example.com"]
        assert f"<outbox-{message.id}@returns.portal>" in delivered[2]
        wait_until(lambda: OutboxMessage.get_by_id(message.id).status == "sent", 10)
