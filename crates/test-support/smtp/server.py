#!/usr/bin/python3
"""A real SMTP server for the tests: aiosmtpd (Debian's python3-aiosmtpd).

    server.py MODE INBOX [--port N] [--auth USER:PASSWORD] [--cert PEM --key PEM]

MODE is plain, starttls (offered), starttls-required or smtps (implicit TLS). Every message it
accepts becomes INBOX/<id>.eml, beside INBOX/<id>.json (envelope, whether TLS was on, who
authenticated); the .eml appears last. A recipient whose local part starts with "refuse" is
refused for good (550), one starting with "later" for now (451). It prints "PORT <n>" once it
listens on 127.0.0.1 (on a free port unless --port names one), and runs until killed.
"""
import argparse
import json
import os
import signal
import socket
import ssl
import sys
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

arguments = argparse.ArgumentParser()
arguments.add_argument("mode", choices=["plain", "starttls", "starttls-required", "smtps"])
arguments.add_argument("inbox")
arguments.add_argument("--port", type=int)
arguments.add_argument("--auth")
arguments.add_argument("--cert")
arguments.add_argument("--key")
options = arguments.parse_args()


class Inbox:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("refuse"):
            return "550 5.1.1 No such mailbox"
        if local.startswith("later"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = uuid.uuid4().hex
        facts = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "user": session.auth_data.login.decode() if session.authenticated else None,
        }
        for suffix, data in ((".json", json.dumps(facts).encode()), (".eml", envelope.original_content)):
            partial = os.path.join(options.inbox, "." + name + suffix)
            with open(partial, "wb") as file:
                file.write(data)
            os.replace(partial, os.path.join(options.inbox, name + suffix))
        return "250 2.0.0 Accepted"


def authenticate(server, session, envelope, mechanism, data):
    user, _, password = options.auth.partition(":")
    good = isinstance(data, LoginPassword) and data.login == user.encode() and data.password == password.encode()
    return AuthResult(success=good, handled=False, auth_data=data if good else None)


settings = dict(hostname="127.0.0.1", server_hostname="localhost", ready_timeout=30)
if options.auth:
    # Over implicit TLS aiosmtpd would hide AUTH unless told the connection is already safe.
    settings.update(authenticator=authenticate, auth_required=True, auth_require_tls=options.mode != "smtps")
if options.mode != "plain":
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(options.cert, options.key)
    if options.mode == "smtps":
        settings.update(ssl_context=context)
    else:
        settings.update(tls_context=context, require_starttls=options.mode == "starttls-required")

os.makedirs(options.inbox, exist_ok=True)
# aiosmtpd checks that it listens by connecting to its port, so it needs a port number, not 0.
port = options.port
if port is None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
controller = Controller(Inbox(), port=port, **settings)
controller.start()
print(f"PORT {port}", flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
try:
    signal.pause()
finally:
    controller.stop()
