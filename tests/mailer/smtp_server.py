#!/usr/bin/env python3
"""A real SMTP server on loopback for the mailer's integration tests (aiosmtpd).

Needs aiosmtpd (Debian: python3-aiosmtpd); the tests run it under the interpreter CMake found.
Prints the chosen port on stdout line 1, then serves until stdin closes or SIGTERM arrives. Each accepted message is stored as
<dir>/msg-<n>.eml (the bytes as received, dot-unstuffed) with <dir>/msg-<n>.envelope beside it
(MAIL FROM on line 1, one RCPT per following line).

Behaviours:
  --port N              listen on this port (a restarted server in an outage test)
  --reject-prefix P     RCPT TO addresses starting with P get "550 5.1.1 mailbox unavailable"
  --tempfail-data N     the first N DATA transactions get "451 4.3.0 temporary failure"
  --permfail-data N     then the next N get "554 5.7.1 message refused by policy"
  --auth USER:PASS      AUTH required (PLAIN/LOGIN, allowed without TLS on loopback)
  --starttls CERT KEY   offer STARTTLS with this certificate and require it
  --implicit-tls CERT KEY  TLS from the first byte (smtps)
Set SMTP_SERVER_VERBOSE=1 to see aiosmtpd's log on stderr.
"""
import argparse
import logging
import os
import signal
import ssl
import sys
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class StoringHandler:
    def __init__(self, directory, reject_prefix, tempfail_data, permfail_data=0):
        self.directory = directory
        self.reject_prefix = reject_prefix
        self.tempfail_left = tempfail_data
        self.permfail_left = permfail_data
        self.stored = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_prefix and address.lower().startswith(self.reject_prefix):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.tempfail_left > 0:
                self.tempfail_left -= 1
                return "451 4.3.0 temporary failure, try again later"
            if self.permfail_left > 0:
                self.permfail_left -= 1
                return "554 5.7.1 message refused by policy"
            self.stored += 1
            n = self.stored
        base = os.path.join(self.directory, "msg-%d" % n)
        envelope_lines = [envelope.mail_from] + list(envelope.rcpt_tos)
        write_atomically(base + ".envelope", ("\n".join(envelope_lines) + "\n").encode())
        write_atomically(base + ".eml", envelope.original_content)
        return "250 2.0.0 Ok: queued as msg-%d" % n


def write_atomically(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        # handled=False: aiosmtpd itself answers "535 5.7.8 Authentication credentials invalid"
        return AuthResult(success=ok, handled=False)
    return authenticate


class LoopbackController(Controller):
    """Binds port 0 and learns the port the kernel chose: no race for a "free" port."""

    def _create_server(self):
        async def create():
            srv = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context)
            self.port = srv.sockets[0].getsockname()[1]
            return srv
        return create()


def server_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def build_controller(args):
    handler = StoringHandler(args.dir, args.reject_prefix, args.tempfail_data, args.permfail_data)
    kwargs = {"server_hostname": "localhost", "ready_timeout": 10.0}
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs.update(authenticator=make_authenticator(user, password),
                      auth_required=True, auth_require_tls=False)
    if args.starttls:
        kwargs.update(tls_context=server_context(*args.starttls), require_starttls=True)
    if args.implicit_tls:
        kwargs.update(ssl_context=server_context(*args.implicit_tls))
    return LoopbackController(handler, hostname="127.0.0.1", port=args.port, **kwargs)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--port", type=int, default=0, help="listen here (default: any free port)")
    p.add_argument("--reject-prefix", default="reject")
    p.add_argument("--tempfail-data", type=int, default=0)
    p.add_argument("--permfail-data", type=int, default=0)
    p.add_argument("--auth")
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    return p.parse_args()


def quiet_unless_asked():
    # Refused TLS handshakes and AUTH without TLS are what the tests do on purpose.
    if not os.environ.get("SMTP_SERVER_VERBOSE"):
        logging.getLogger("mail.log").setLevel(logging.CRITICAL)
        warnings.simplefilter("ignore")


def main():
    args = parse_args()
    quiet_unless_asked()
    os.makedirs(args.dir, exist_ok=True)
    controller = build_controller(args)
    controller.start()
    sys.stdout.write("%d\n" % controller.port)
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # The parent holds our stdin: when it goes away (even killed), we go too.
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
