"""Housekeeping on a real worker: approved returns whose parcel never came are cancelled with an
email, and shoppers get one reminder halfway. Mail goes through a real SMTP server."""

import datetime

import pytest

from portal.db import db
from portal.models import OutboxMessage, Return, ReturnEvent, now
from tests import factories
from tests.apps import make_app
from tests.waiting import wait_until


@pytest.fixture
def app(tmp_path, redis_url, smtp_server):
    controller, _ = smtp_server
    app = make_app(tmp_path, redis_url, MAIL_SERVER=controller.hostname,
                   MAIL_PORT=controller.port)  # fmt: skip
    yield app
    if not db.is_closed():
        db.close()


def approved(make, email, days_ago, status="approved"):
    order = make.order(email=email)
    return factories.make_return(order, status=status,
                          approved_at=now() - datetime.timedelta(days=days_ago))  # fmt: skip


def run_housekeeping():
    """Send the beat's housekeeping task; its AsyncResult (kept in Redis) tells when it ran."""
    from celery import current_app

    return current_app.send_task("tasks.housekeeping.run", ignore_result=False)


def test_housekeeping_expires_and_reminds_once(app, make, celery_worker, smtp_server):
    _, mailbox = smtp_server
    with app.app_context():
        make.policy(expire_unshipped_days=10)
        late = approved(make, "late@example.com", 11)
        halfway = approved(make, "halfway@example.com", 6)
        fresh = approved(make, "fresh@example.com", 2)
        waiting = approved(make, "requested@example.com", 20, status="requested")

        run_housekeeping()
        messages = mailbox.wait_for(2)
        assert sorted(m[1][0] for m in messages) == ["halfway@example.com", "late@example.com"]
        expired_mail = next(m[2] for m in messages if m[1] == ["late@example.com"])
        assert f"Return {late.reference} was cancelled" in expired_mail
        reminder = next(m[2] for m in messages if m[1] == ["halfway@example.com"])
        assert f"please send the parcel for return {halfway.reference}" in reminder
        deadline = halfway.target_date.strftime("%d %b %Y")  # the date approval gave it
        assert deadline in reminder

        assert Return.get_by_id(late.id).status == "cancelled"
        assert Return.get_by_id(late.id).version == late.version + 1
        [event] = ReturnEvent.select().where(ReturnEvent.rma == late.id)
        assert event.kind == "expired" and event.actor_id is None
        assert {Return.get_by_id(r.id).status for r in (halfway, fresh)} == {"approved"}
        assert Return.get_by_id(waiting.id).status == "requested"

        # the beat runs again (and again): nothing more goes out
        again = [run_housekeeping(), run_housekeeping()]
        wait_until(lambda: OutboxMessage.select().where(OutboxMessage.status == "sent").count()
                   == 2, 10)  # fmt: skip
        # Instead of sleeping, wait for both runs to finish: each found nothing to expire or to
        # remind, and wrote no message; with none written, none can go out later.
        nothing = {"reminded": [], "expired": [], "draft_photos": 0, "purged": 0}
        assert [run.get(timeout=20) for run in again] == [nothing] * 2
        assert len(mailbox.messages) == 2
        assert OutboxMessage.select().count() == 2


def test_the_beat_schedule_runs_the_sweeper_and_housekeeping(app):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["outbox-sweep"]["task"] == "tasks.outbox.sweep"
    assert schedule["outbox-sweep"]["schedule"] == 15.0
    assert schedule["returns-housekeeping"]["task"] == "tasks.housekeeping.run"
    worker_tasks = app.extensions["celery"].tasks
    assert {"tasks.outbox.deliver", "tasks.outbox.sweep", "tasks.housekeeping.run"} <= set(
        worker_tasks
    )
