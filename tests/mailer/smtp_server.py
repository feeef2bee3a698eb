#!/usr/bin/env python3
"""A real SMTP server on loopback for the mailer's integration tests (aiosmtpd).

Needs aiosmtpd (Debian: python3-aiosmtpd); the tests run it under the interpreter CMake found.
Binds port 0 on 127.0.0.1 and prints the port the kernel chose on stdout line 1, then serves
until stdin closes or SIGTERM arrives. Each accepted message is stored as <dir>/msg-<n>.eml (the
bytes as received, dot-unstuffed) with <dir>/msg-<n>.envelope beside it (MAIL FROM on line 1, one
RCPT per following line).

Behaviours:
  --down                hold the port but refuse connections (an SMTP outage) until the line
                        "up" arrives on stdin; then serve and answer "up" on stdout. The port
                        stays this process's throughout, so no other program can take it.
                        The line "down" stops serving again (connections refused, the port
                        still held) and is answered "down"; messages keep their numbering.
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
import socket
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
    """Serves on a socket bound beforehand to port 0 (the kernel's pick): the port is known, and
    held, before the server listens, so there is no race for a "free" port."""

    def __init__(self, handler, sock, **kwargs):
        self.sock = sock
        super().__init__(handler, hostname="127.0.0.1", port=sock.getsockname()[1], **kwargs)

    def _create_server(self):
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)


def server_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def build_controller(args, handler, port=0):
    kwargs = {"server_hostname": "localhost", "ready_timeout": 10.0}
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs.update(authenticator=make_authenticator(user, password),
                      auth_required=True, auth_require_tls=False)
    if args.starttls:
        kwargs.update(tls_context=server_context(*args.starttls), require_starttls=True)
    if args.implicit_tls:
        kwargs.update(ssl_context=server_context(*args.implicit_tls))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the same port after "down"
    sock.bind(("127.0.0.1", port))  # bound, not listening: connections are refused until start()
    return LoopbackController(handler, sock, **kwargs)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--down", action="store_true", help="refuse connections until 'up' on stdin")
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
    # SIGTERM is blocked in every thread (threads inherit the mask) and taken with sigwait below.
    # A Python handler that sets an Event could deadlock: it runs in the main thread, perhaps
    # while that thread holds the Event's own lock inside wait().
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    args = parse_args()
    quiet_unless_asked()
    os.makedirs(args.dir, exist_ok=True)
    handler = StoringHandler(args.dir, args.reject_prefix, args.tempfail_data, args.permfail_data)
    controllers = [build_controller(args, handler)]
    serving = threading.Lock()
    started = []

    def start():
        with serving:
            if not started:
                controllers[-1].start()
                started.append(True)

    def go_down():
        # The listening socket closes with the server; a new one, bound and not listening,
        # holds the port meanwhile.
        with serving:
            if started:
                port = controllers[-1].port
                controllers[-1].stop()
                controllers.append(build_controller(args, handler, port))
                started.clear()

    if not args.down:
        start()
    say(str(controllers[-1].port))

    # The parent holds our stdin: commands come from it, and when it goes away (even killed),
    # we go too, as if it had sent SIGTERM.
    def read_commands():
        for line in sys.stdin:
            if line.strip() == "up":
                start()
                say("up")
            elif line.strip() == "down":
                go_down()
                say("down")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=read_commands, daemon=True).start()
    signal.sigwait({signal.SIGTERM})
    with serving:
        if started:
            controllers[-1].stop()


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
