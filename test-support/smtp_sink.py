"""A real SMTP server for Tiketa's mail tests, on loopback (aiosmtpd from PyPI).

It saves every message it accepts, as received, into a folder: `0001.eml`, `0002.eml`, ...
(written to a hidden temp file, then renamed, so a test polling the folder only sees whole
messages), with the envelope beside it in `0001.envelope` (the MAIL FROM, then one RCPT TO a
line). It can refuse the first N messages with `451` (a server that is briefly unwell), or stall:
accept connections and never greet (a server that hangs), to catch a sender mid-send.

It prints `listening on 127.0.0.1:PORT` once it listens, then one line per event (`connected`,
`refused`, `received 0001`), flushed, so a test waits on what happened rather than on a timer.
It exits when its standard input closes, so it never outlives the test that started it.

    python3 smtp_sink.py --dir DIR [--port 0] [--fail-first N] [--stall]
"""

import argparse
import asyncio
import os
import sys
import threading

from aiosmtpd.smtp import SMTP


def say(line):
    print(line, flush=True)


class Sink:
    def __init__(self, folder, fail_first):
        self.folder = folder
        self.fail_left = fail_first
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            say("refused")
            return "451 4.3.0 Try again later (the test sink refuses this one)"
        self.count += 1
        name = f"{self.count:04d}"
        with open(os.path.join(self.folder, f"{name}.envelope"), "w", encoding="utf-8") as f:
            f.write("\n".join([envelope.mail_from, *envelope.rcpt_tos]) + "\n")
        temp = os.path.join(self.folder, f".{name}.tmp")
        with open(temp, "wb") as f:
            f.write(envelope.original_content)
            f.flush()
            os.fsync(f.fileno())
        os.rename(temp, os.path.join(self.folder, f"{name}.eml"))
        say(f"received {name}")
        return "250 2.0.0 Saved"


class Greeter(SMTP):
    def connection_made(self, transport):
        say("connected")
        super().connection_made(transport)


async def stall(reader, writer):
    say("connected")
    await asyncio.Event().wait()


async def main(args):
    loop = asyncio.get_running_loop()
    if args.stall:
        server = await asyncio.start_server(stall, "127.0.0.1", args.port)
    else:
        sink = Sink(args.dir, args.fail_first)
        # A fixed hostname: aiosmtpd would otherwise look up this host's name, which can be slow.
        server = await loop.create_server(lambda: Greeter(sink, hostname="sink.test"), "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    say(f"listening on 127.0.0.1:{port}")
    done = asyncio.Event()

    def watch_stdin():
        sys.stdin.read()
        loop.call_soon_threadsafe(done.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    await done.wait()
    server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="the folder messages are saved into")
    parser.add_argument("--port", type=int, default=0, help="0 (the default) takes a free port")
    parser.add_argument("--fail-first", type=int, default=0, help="refuse this many messages with 451")
    parser.add_argument("--stall", action="store_true", help="accept connections and never answer")
    asyncio.run(main(parser.parse_args()))
