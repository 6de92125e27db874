#!/usr/bin/env python3
"""Runs `age` with a terminal, answering its passphrase prompts with $AGE_TEST_PASSPHRASE.

    age_tty.py age -p -o OUT IN     age_tty.py age -d -o OUT IN

age reads a passphrase only from a terminal (/dev/tty), so the tests give it a pseudo-terminal. Exits with
age's status and prints what it wrote to the terminal; gives up after 60 seconds.
"""
import os
import pty
import signal
import sys
import time

passphrase = os.environ["AGE_TEST_PASSPHRASE"].encode()
pid, terminal = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

signal.signal(signal.SIGALRM, lambda *_: (os.kill(pid, signal.SIGKILL), sys.exit("age_tty: age did not finish in 60 s")))
signal.alarm(60)
seen = b""
answered = 0
while True:
    try:
        data = os.read(terminal, 1024)
    except OSError:
        break
    if not data:
        break
    seen += data
    # One answer per prompt ("Enter passphrase…", "Confirm passphrase…").
    while seen.lower().count(b"passphrase") > answered:
        time.sleep(0.05)
        os.write(terminal, passphrase + b"\n")
        answered += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
