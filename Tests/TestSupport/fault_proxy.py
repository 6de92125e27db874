#!/usr/bin/env python3
"""A fault-injecting HTTP proxy on loopback for the S3 tests: between `backup` and moto_server.

    fault_proxy.py UPSTREAM_PORT PLAN_FILE [CERT_FILE KEY_FILE]

Prints the port it listens on (127.0.0.1), then forwards every request to 127.0.0.1:UPSTREAM_PORT
unchanged (so request signatures stay valid), except where PLAN_FILE says otherwise. With CERT_FILE and
KEY_FILE (PEM) it speaks TLS to its clients with that certificate (moto behind it stays plain HTTP).
Each connection's receive buffer is 64 KiB (SO_RCVBUF), as a modest real link has, so a client
writing faster than a `throttle` reads is held back by TCP rather than by a large kernel buffer.
The plan is JSON, re-read on each request; a changed plan starts its counters afresh:

    [{"method": "PUT", "query": "partNumber", "fault": "503", "times": 2}, ...]

A rule matches a request whose method is `method` (any if absent), whose path contains `path` and whose
query string contains `query` (either any if absent), and applies to the first `times` matching requests (-1: all). Faults:
    "forward"           forward as without a rule (a rule that lets the first `times` matches through)
    "500", "503", "501" answer InternalError, SlowDown or NotImplemented (after reading the request)
    "answer"            answer `status` with S3 error `code` and the extra `headers` (an object)
    "reset-request"     read `after_bytes` of the request body, then reset the connection
    "reset-response"    forward the request, then reset before any of the answer (the request took effect,
                        its answer is lost); with `after_bytes`, relay the answer's head and that much of
                        its body first
    "stall"             read the request and never answer (until the client gives up, or 300 s); with
                        `after_bytes`, read only that much of the body and then nothing more for 300 s
    "throttle"          read the request body at `rate` bytes a second, then forward it
    "endless-list"      answer a listing (ListObjectsV2, or ListMultipartUploads) as a store that ignores
                        continuation tokens would: the same made-up key under the prefix, "truncated", with
                        the continuation token (upload-id marker) `token`, or a new one each time without it
Every request is logged to stderr as one line: method, path and query, and the fault applied.
"""

import itertools
import json
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from xml.sax.saxutils import escape

UPSTREAM = ("127.0.0.1", int(sys.argv[1]))
PLAN_FILE = sys.argv[2]
TLS = sys.argv[3:5] if len(sys.argv) >= 5 else None
# 64 KiB asked for (Linux books twice that): with a throttle, the client's bytes wait in its own socket
# rather than in a large receive buffer here, as on a slow link.
RECEIVE_BUFFER = 64 * 1024
lock = threading.Lock()
state = {"plan_text": None, "plan": [], "counts": []}
tokens = itertools.count(1)


def fault_for(method, target):
    """The fault of the first rule that matches and has tries left, counting it; None to forward."""
    try:
        with open(PLAN_FILE) as handle:
            text = handle.read()
    except OSError:
        text = "[]"
    with lock:
        if text != state["plan_text"]:
            state["plan_text"] = text
            state["plan"] = json.loads(text or "[]")
            state["counts"] = [0] * len(state["plan"])
        path, _, query = target.partition("?")
        for index, rule in enumerate(state["plan"]):
            if rule.get("method", method) != method or rule.get("query", "") not in query \
                    or rule.get("path", "") not in path:
                continue
            times = rule.get("times", -1)
            if times != -1 and state["counts"][index] >= times:
                continue
            state["counts"][index] += 1
            return rule
    return None


def read_head(connection, buffer):
    """Reads up to the blank line; returns (head bytes, rest of buffer) or (None, b"") at EOF."""
    while b"\r\n\r\n" not in buffer:
        data = connection.recv(65536)
        if not data:
            return None, b""
        buffer += data
    head, rest = buffer.split(b"\r\n\r\n", 1)
    return head + b"\r\n\r\n", rest


def header(head, name):
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode()
    return None


def reset(connection):
    """Closes with a TCP RST, as a broken network does."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.close()


def read_exactly(connection, buffer, length):
    while len(buffer) < length:
        data = connection.recv(65536)
        if not data:
            raise ConnectionError("closed mid-body")
        buffer += data
    return buffer[:length], buffer[length:]


def read_throttled(connection, buffer, length, rate):
    """`read_exactly` at `rate` bytes a second on average, in reads of at most 16 KiB."""
    start = time.monotonic()
    received = bytearray(buffer)
    while len(received) < length:
        data = connection.recv(min(16384, length - len(received)))
        if not data:
            raise ConnectionError("closed mid-body")
        received += data
        ahead = len(received) / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    return bytes(received[:length]), bytes(received[length:])


def answer(status, reason, body, headers=None, content_type="application/xml"):
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            f"{extra}\r\n").encode() + body


def error_answer(code, status, reason, headers=None):
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error>'.encode()
    return answer(status, reason, body, headers)


def endless_listing(target, rule):
    """A listing that says there is more, whatever continuation token the request carried."""
    query = urllib.parse.parse_qs(target.partition("?")[2], keep_blank_values=True)
    key = escape(query.get("prefix", [""])[0] + "endless-list-key")
    token = escape(rule.get("token") or f"endless-{next(tokens)}")
    if "list-type" in query:
        body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>'
                f'<IsTruncated>true</IsTruncated><Contents><Key>{key}</Key><Size>1</Size></Contents>'
                f'<NextContinuationToken>{token}</NextContinuationToken></ListBucketResult>')
    else:
        body = ('<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><IsTruncated>true</IsTruncated>'
                f'<NextKeyMarker>{key}</NextKeyMarker><NextUploadIdMarker>{token}</NextUploadIdMarker>'
                f'<Upload><Key>{key}</Key><UploadId>endless-upload</UploadId></Upload></ListMultipartUploadsResult>')
    return answer(200, "OK", body.encode())


def serve(client):
    buffer = b""
    try:
        while True:
            head, buffer = read_head(client, buffer)
            if head is None:
                client.close()
                return
            method, target = head.split(b" ", 2)[:2]
            method, target = method.decode(), target.decode()
            length = int(header(head, b"content-length") or 0)
            rule = fault_for(method, target)
            fault = rule["fault"] if rule else None
            requested = header(head, b"range")
            ranged = f" range {requested}" if requested else ""
            print(f"{method} {target} {fault or 'forwarded'}{ranged}", file=sys.stderr, flush=True)
            if fault == "reset-request":
                read_exactly(client, buffer, min(length, rule.get("after_bytes", 0)))
                reset(client)
                return
            if fault == "stall" and "after_bytes" in rule:
                read_exactly(client, buffer, min(length, rule["after_bytes"]))
                time.sleep(300)
                client.close()
                return
            if fault == "throttle":
                body, buffer = read_throttled(client, buffer, length, rule["rate"])
            else:
                body, buffer = read_exactly(client, buffer, length)
            if fault in ("500", "503", "501", "answer"):
                client.sendall({"500": lambda: error_answer("InternalError", 500, "Internal Server Error"),
                                "503": lambda: error_answer("SlowDown", 503, "Slow Down"),
                                "501": lambda: error_answer("NotImplemented", 501, "Not Implemented"),
                                "answer": lambda: error_answer(rule["code"], rule["status"], "Injected",
                                                               rule.get("headers"))}[fault]())
                continue
            if fault == "endless-list":
                client.sendall(endless_listing(target, rule))
                continue
            if fault == "stall":
                client.settimeout(300)
                try:
                    while client.recv(65536):
                        pass
                except OSError:
                    pass
                client.close()
                return
            if not relay(client, method, head, body, rule if fault == "reset-response" else None):
                client.close()
                return
    except (ConnectionError, OSError):
        client.close()


def relay(client, method, head, body, cut):
    """Forwards one request and its answer; False when the client connection must close afterwards."""
    upstream = socket.create_connection(UPSTREAM)
    try:
        upstream.sendall(head + body)
        answer_head, rest = read_head(upstream, b"")
        if answer_head is None:
            return False
        length = header(answer_head, b"content-length")
        if method == "HEAD":
            client.sendall(answer_head)
            return True
        if length is None:
            # Unknown length: relay until the server closes, then close the client's connection too.
            client.sendall(answer_head + rest)
            while True:
                data = upstream.recv(65536)
                if not data:
                    return False
                client.sendall(data)
        if cut is None:
            # Passed on as it arrives, so the first byte reaches the client when moto sends it.
            remaining = int(length) - len(rest[:int(length)])
            client.sendall(answer_head + rest[:int(length)])
            while remaining > 0:
                data = upstream.recv(min(65536, remaining))
                if not data:
                    raise ConnectionError("closed mid-answer")
                client.sendall(data)
                remaining -= len(data)
            return True
        answer_body, _ = read_exactly(upstream, rest, int(length))
        if cut.get("after_bytes", 0) > 0:
            client.sendall(answer_head + answer_body[:cut["after_bytes"]])
        time.sleep(0.05)
        reset(client)
        return False
    finally:
        upstream.close()


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Set before listening, so accepted connections have it from their first byte.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    context = None
    if TLS:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS[0], TLS[1])
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve_tls if context else serve, args=(client, context) if context else (client,),
                         daemon=True).start()


def serve_tls(client, context):
    """`serve` behind a TLS handshake; a client that refuses the certificate is logged and let go."""
    try:
        client = context.wrap_socket(client, server_side=True)
    except (ssl.SSLError, OSError) as error:
        print(f"TLS handshake failed: {error}", file=sys.stderr, flush=True)
        client.close()
        return
    serve(client)


if __name__ == "__main__":
    main()
