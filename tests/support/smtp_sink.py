"""A real SMTP server for the tests: receives on 127.0.0.1:PORT and appends each message,
parsed by Python's email package, as one JSON line to OUT.

usage: python3 smtp_sink.py PORT OUT
"""
import email
import email.policy
import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "reply_to": str(msg["Reply-To"]) if msg["Reply-To"] else None,
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "content_type": msg.get_content_type(),
            "text": None,
            "html": None,
            "ics": None,
            "ics_method": None,
            "ics_filename": None,
        }
        for part in msg.walk():
            ctype = part.get_content_type()
            if ctype == "text/plain" and record["text"] is None:
                record["text"] = part.get_content()
            elif ctype == "text/html" and record["html"] is None:
                record["html"] = part.get_content()
            elif ctype == "text/calendar":
                record["ics"] = part.get_content()
                record["ics_method"] = part.get_param("method")
                record["ics_filename"] = part.get_filename()
        with self.lock:
            with open(self.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
        return "250 Message accepted for delivery"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
