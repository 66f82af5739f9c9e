#!/usr/bin/env python3
"""What a queue's JetStream stream holds, output by output (docs/scale-out.md, "The message
format"): reads every stored message through the JetStream API on a plain NATS connection
and prints one JSON line
  {"messages": M, "outputs": K, "first": F, "last": L, "in_order": true|false}
where K counts the node outputs of all messages (a version 2 or 3 message holds a batch),
F / L are the sequences of the first and last output, and in_order says that the outputs
are numbered F, F+1, ... L with nothing twice and nothing missing.
Usage: bus_outputs.py PORT|nats://127.0.0.1:PORT STREAM   (the server on 127.0.0.1;
bounded: 10 s per request)
"""
import base64
import json
import socket
import struct
import sys


def reader(sock):
    buf = b""
    while True:
        while b"\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("bus_outputs: connection closed")
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        if line.startswith(b"MSG "):
            size = int(line.split()[-1])
            while len(buf) < size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    raise SystemExit("bus_outputs: connection closed")
                buf += chunk
            payload, buf = buf[:size], buf[size + 2:]
            yield payload
        elif line == b"PING":
            sock.sendall(b"PONG\r\n")
        elif line.startswith(b"-ERR"):
            raise SystemExit("bus_outputs: " + line.decode())


def outputs(data):
    """(first sequence, count) of one message, version 1, 2 or 3 (2 with a state)."""
    if data[:2] != b"QB":
        raise SystemExit("bus_outputs: not a qmtl bus message")
    if data[2] == 1:
        return struct.unpack(">Q", data[12:20])[0], 1
    if data[2] in (2, 3):
        n = data[3]
        return struct.unpack(">QI", data[4 + n:16 + n])
    raise SystemExit("bus_outputs: version %d" % data[2])


def main():
    port, stream = int(sys.argv[1].rsplit(":", 1)[-1]), sys.argv[2]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nSUB _bus_outputs.r 1\r\n')
    msgs = reader(sock)

    def request(subject, body):
        b = json.dumps(body).encode()
        sock.sendall(b"PUB %s _bus_outputs.r %d\r\n%s\r\n" % (subject.encode(), len(b), b))
        return json.loads(next(msgs))

    info = request("$JS.API.STREAM.INFO." + stream, {})
    if "error" in info:
        raise SystemExit("bus_outputs: %s" % info["error"])
    state = info["state"]
    count, first, last, in_order = 0, None, None, True
    for seq in range(state["first_seq"], state["last_seq"] + 1) if state["messages"] else []:
        r = request("$JS.API.STREAM.MSG.GET." + stream, {"seq": seq})
        if "error" in r:
            raise SystemExit("bus_outputs: message %d: %s" % (seq, r["error"]))
        f, k = outputs(base64.b64decode(r["message"]["data"]))
        if last is not None and f != last + 1:
            in_order = False
        first = f if first is None else first
        last = f + k - 1
        count += k
    print(json.dumps({"messages": state["messages"], "outputs": count, "first": first,
                      "last": last, "in_order": in_order}))


main()
