#!/usr/bin/python3
"""smtpsink.py - a throwaway SMTP server for tests.

Usage: smtpsink.py DIR [PORT]

Listens on 127.0.0.1:PORT (0 or absent = an ephemeral port), prints the port on stdout
(one line, flushed) once it accepts connections, and stores every accepted message as
DIR/<n>.eml (n = 1, 2, ...), written atomically (temp file + rename) before the reply to
DATA, so the file exists when the client sees "250". Each file starts with the envelope:

    X-Envelope-From: alerts@example.com
    X-Envelope-To: a@example.com, c@example.com

followed by the message as received (dot-stuffing removed; line endings as the server
library delivers them: LF with smtpd). No TLS, no AUTH: it is a plain sink.

Failure injection by recipient: a message for any address starting with "reject5@" is
refused after DATA with "554 5.7.1 rejected by smtpsink", one for "tempfail4@" with
"451 4.3.0 try again later"; neither is stored.

Uses the stdlib smtpd module (deprecated, present up to Python 3.11); falls back to
aiosmtpd when smtpd is gone. Stops on SIGTERM/SIGINT.
"""
import os
import signal
import sys
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)


def verdict(rcpt_tos):
    """The DATA reply for failure-injection recipients, or None to accept."""
    if any(r.lower().startswith("reject5@") for r in rcpt_tos):
        return "554 5.7.1 rejected by smtpsink"
    if any(r.lower().startswith("tempfail4@") for r in rcpt_tos):
        return "451 4.3.0 try again later"
    return None


class Store:
    def __init__(self, directory):
        self.dir = directory
        self.n = 0

    def save(self, mail_from, rcpt_tos, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.n += 1
        head = "X-Envelope-From: %s\nX-Envelope-To: %s\n" % (mail_from, ", ".join(rcpt_tos))
        path = os.path.join(self.dir, "%d.eml" % self.n)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(head.encode("utf-8", "surrogateescape"))
            f.write(data)
        os.rename(tmp, path)


def run_smtpd(store, port):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import asyncore
        import smtpd

    class Sink(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
            refuse = verdict(rcpttos)
            if refuse is None:
                store.save(mailfrom, rcpttos, data)
            return refuse

    server = Sink(("127.0.0.1", port), None, decode_data=False)
    print(server.socket.getsockname()[1], flush=True)
    asyncore.loop(timeout=0.2)


def run_aiosmtpd(store, port):
    import asyncio
    from aiosmtpd.smtp import SMTP

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            refuse = verdict(envelope.rcpt_tos)
            if refuse is not None:
                return refuse
            store.save(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)
            return "250 OK"

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(Handler()), "127.0.0.1", port))
    print(server.sockets[0].getsockname()[1], flush=True)
    loop.run_forever()


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: smtpsink.py DIR [PORT]\n")
        return 2
    store = Store(sys.argv[1])
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import smtpd  # noqa: F401
    except ImportError:
        run_aiosmtpd(store, port)
        return 0
    run_smtpd(store, port)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
