#!/usr/bin/python3
"""A real SMTP server for Herald's tests: Debian's aiosmtpd with AUTH, on loopback.

Three listeners on free ports: STARTTLS (AUTH only after STARTTLS), implicit TLS, and plain
(AUTH without TLS, for `security: none` on loopback). Every accepted message is written to
--dir as <n>.eml (the bytes as received) and <n>.json (the envelope). Some recipients answer
the way a real server sometimes does:
  tempfail-once…@…  451 the first time that address is given, accepted afterwards
  reject…@…         550 (no such user)
  slow…@…           accepted after a pause of 200 ms at the end of DATA
Each message's envelope also says when its transaction began (MAIL FROM) and ended (the end
of DATA), in seconds on one monotonic clock ("began", "ended"), so tests can see overlaps.
Prints one JSON line with the ports, then serves until killed.

Run with /usr/bin/python3 (a pyenv python on PATH does not see Debian's python3-aiosmtpd).
"""
import argparse
import asyncio
import warnings
import json
import os
import socket
import ssl
import sys
import threading
import time

warnings.filterwarnings("ignore")  # AUTH without TLS is wanted on the plain port

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class State:
    def __init__(self, directory):
        self.directory = directory
        self.lock = threading.Lock()
        self.count = 0
        self.seen = set()


class Handler:
    def __init__(self, state, listener):
        self.state = state
        self.listener = listener

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.began = time.monotonic()
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local.startswith("tempfail-once"):
            with self.state.lock:
                first = address not in self.state.seen
                self.state.seen.add(address)
            if first:
                return "451 4.3.0 <%s>: Temporary local problem, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if any(a.split("@", 1)[0].lower().startswith("slow") for a in envelope.rcpt_tos):
            await asyncio.sleep(0.2)
        with self.state.lock:
            self.state.count += 1
            n = self.state.count
        base = os.path.join(self.state.directory, "%06d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"mailFrom": envelope.mail_from, "rcptTos": envelope.rcpt_tos,
                       "listener": self.listener,
                       "tls": self.listener == "tls" or session.ssl is not None,
                       "authenticated": bool(session.authenticated),
                       "began": getattr(envelope, "began", None), "ended": time.monotonic()}, f)
        os.rename(base + ".eml.tmp", base + ".eml")  # complete once visible
        return "250 2.0.0 Ok: queued as %06d" % n


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        return AuthResult(success=ok, handled=False)
    return check


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", default="herald")
    ap.add_argument("--password", default="smtp-password")
    args = ap.parse_args()

    state = State(args.dir)
    auth = authenticator(args.user, args.password)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    ports = {"starttls": free_port(), "tls": free_port(), "plain": free_port()}
    common = dict(hostname="127.0.0.1", authenticator=auth, auth_required=True)
    controllers = [
        Controller(Handler(state, "starttls"), port=ports["starttls"], tls_context=tls, require_starttls=True,
                   auth_require_tls=True, **common),
        Controller(Handler(state, "tls"), port=ports["tls"], ssl_context=tls, auth_require_tls=False,
                   **common),
        Controller(Handler(state, "plain"), port=ports["plain"], auth_require_tls=False, **common),
    ]
    for c in controllers:
        c.start()
    print(json.dumps(ports), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for c in controllers:
            c.stop()


if __name__ == "__main__":
    sys.exit(main())
