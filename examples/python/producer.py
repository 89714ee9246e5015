#!/usr/bin/env python3
"""Put events on a zbridge bus with nothing but pyzmq and msgpack.

    producer.py [BROKER_ENDPOINT]

BROKER_ENDPOINT defaults to $ZBRIDGE_ENDPOINT, else tcp://127.0.0.1:7400.
Puts two OrderPlaced events in one batch and prints one line per entry: its
EventId, or its ErrorCode and ErrorMessage. Exits 1 if anything failed.
"""
import json
import os
import sys

import msgpack
import zmq

endpoint = (sys.argv[1] if len(sys.argv) > 1
            else os.environ.get("ZBRIDGE_ENDPOINT") or "tcp://127.0.0.1:7400")

ctx = zmq.Context()
sock = ctx.socket(zmq.DEALER)
sock.setsockopt(zmq.LINGER, 0)
sock.setsockopt(zmq.RCVTIMEO, 10000)  # never wait for ever on a dead broker
sock.connect(endpoint)

request = {
    "Action": "PutEvents",
    "Entries": [
        {"Source": "com.example.shop", "DetailType": "OrderPlaced",
         "Detail": json.dumps({"order": 1, "total": 42.5, "country": "NL"}),
         "Resources": ["arn:example:shop:order/1"]},
        {"Source": "com.example.shop", "DetailType": "OrderPlaced",
         "Detail": json.dumps({"order": 2, "total": 7, "country": "FR"})},
    ],
}
sock.send(msgpack.packb(request))
try:
    reply = msgpack.unpackb(sock.recv())
except zmq.Again:
    sys.exit(f"producer: no reply from {endpoint}")

if "Error" in reply:
    sys.exit(f"producer: PutEvents failed: {reply['Error']['Code']}: {reply['Error']['Message']}")
for entry in reply["Entries"]:
    print(entry.get("EventId") or f"{entry['ErrorCode']}: {entry['ErrorMessage']}")
sys.exit(1 if reply["FailedEntryCount"] else 0)
