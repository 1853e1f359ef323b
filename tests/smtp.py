"""A real SMTP server for the tests (aiosmtpd in a thread) and the mailbox it delivers to."""

import email
import email.policy
import time


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content.decode("utf8", "replace"),
            )
        )
        return "250 Message accepted for delivery"

    def parsed(self):
        """Every message so far as email.message.EmailMessage objects."""
        return [email.message_from_string(raw, policy=email.policy.default)
                for _, _, raw in list(self.messages)]  # fmt: skip

    def wait_for_match(self, predicate, timeout=30):
        """The parsed messages for which predicate(message) holds, once there is at least one."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.parsed() if predicate(m)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def wait_for(self, count=1, timeout=15):
        """The list of messages (the live one, it keeps growing) once it has `count`."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def start(mailbox, port):
    from aiosmtpd.controller import Controller

    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller
