"""The repository's rules.yaml does what its comments say: an order fans out
to inventory, payment (and fraud review when big) and, once paid, shipping."""
import re

from broker_util import entry, free_port, nothing_more, put_events, receive, subscriber
from conftest import ROOT


def test_the_example_order_flow(broker_factory):
    text = (ROOT / "rules.yaml").read_text().replace("tcp://127.0.0.1:7400", "{listen}")
    ports = {}
    for old in sorted(set(re.findall(r"tcp://127\.0\.0\.1:(75\d\d)", text))):
        ports[old] = free_port()
        text = text.replace(f"127.0.0.1:{old}", f"127.0.0.1:{ports[old]}")
    b = broker_factory(text)
    s = b.client()
    inventory = subscriber(b.ctx, f"tcp://127.0.0.1:{ports['7501']}")
    payment = subscriber(b.ctx, f"tcp://127.0.0.1:{ports['7502']}")
    shipping = subscriber(b.ctx, f"tcp://127.0.0.1:{ports['7503']}")
    r = put_events(s,
                   entry(bus="orders", detail={"order": "o-1", "amount": 250,
                                               "payment-method": "card"}),
                   entry(bus="orders", detail={"order": "o-2", "amount": 20,
                                               "payment-method": "invoice"}),
                   entry(bus="orders", source="shop.payments", detail_type="PaymentSucceeded",
                         detail={"order": "o-1", "delivery-method": "parcel", "country": "FR"}),
                   entry(bus="orders", source="shop.payments", detail_type="PaymentSucceeded",
                         detail={"order": "o-3", "delivery-method": "download",
                                 "country": "FR"}))
    assert r["FailedEntryCount"] == 0
    assert sorted((t, e["detail"]["order"]) for t, e in (receive(inventory) for _ in range(2))) \
        == [(b"inventory.OrderCreated", "o-1"), (b"inventory.OrderCreated", "o-2")]
    got = sorted((t, e["detail"]["order"]) for t, e in (receive(payment) for _ in range(2)))
    assert got == [(b"payment", "o-1"), (b"review.big-orders", "o-1")]
    t, e = receive(shipping)
    assert (t, e["detail"]["order"]) == (b"shipping", "o-1")
    assert e["account"] == "123456789012" and e["region"] == "eu-west-1"
    assert nothing_more(inventory) and nothing_more(payment) and nothing_more(shipping)
