#!/usr/bin/env python3
"""Receive the events delivered to a zbridge target, with pyzmq and msgpack.

    subscriber.py TARGET_ENDPOINT [COUNT]

TARGET_ENDPOINT is the Endpoint of a pub target (put-targets). Each event is
two frames: the topic, then the msgpack envelope (version, id, detail-type,
source, account, time, region, resources, detail). Prints one line per event,
"<topic> <source> <detail-type> <detail JSON>", and stops after COUNT events
(default: never). Exits 1 when no event arrives for 10 seconds.
"""
import json
import sys

import msgpack
import zmq

if len(sys.argv) < 2:
    sys.exit("usage: subscriber.py TARGET_ENDPOINT [COUNT]")
count = int(sys.argv[2]) if len(sys.argv) > 2 else -1

ctx = zmq.Context()
sock = ctx.socket(zmq.SUB)
sock.setsockopt(zmq.LINGER, 0)
sock.setsockopt(zmq.RCVTIMEO, 10000)
sock.setsockopt(zmq.SUBSCRIBE, b"")  # every topic; b"orders." would filter
sock.connect(sys.argv[1])

seen = 0
while count < 0 or seen < count:
    try:
        topic, envelope = sock.recv_multipart()
    except zmq.Again:
        sys.exit("subscriber: no event for 10 seconds")
    event = msgpack.unpackb(envelope)
    print(topic.decode(), event["source"], event["detail-type"],
          json.dumps(event["detail"], separators=(",", ":")), flush=True)
    seen += 1
