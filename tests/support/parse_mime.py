#!/usr/bin/python3
"""Parses a message with Python's own `email` package (an independent MIME parser) and prints
what Herald's tests check, as JSON: the headers decoded (RFC 2047), the addresses parsed, the
structure and each text part decoded. Usage: parse_mime.py FILE.eml"""
import email
import email.policy
import email.utils
import json
import sys


def addresses(msg, name):
    value = msg.get(name)
    if value is None:
        return None
    return [{"name": a.display_name, "address": a.addr_spec} for a in value.addresses]


def main():
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts.append({"type": part.get_content_type(), "charset": part.get_content_charset(),
                      "content": part.get_content()})
    out = {
        "defects": [type(d).__name__ for d in msg.defects],
        "from": addresses(msg, "From"),
        "to": addresses(msg, "To"),
        "replyTo": addresses(msg, "Reply-To"),
        "subject": msg.get("Subject"),
        "date": msg.get("Date"),
        "dateParsed": email.utils.parsedate_to_datetime(msg["Date"]).isoformat()
        if msg.get("Date") else None,
        "messageId": msg.get("Message-ID"),
        "mimeVersion": msg.get("MIME-Version"),
        "contentType": msg.get_content_type(),
        "listUnsubscribe": msg.get("List-Unsubscribe"),
        "listUnsubscribePost": msg.get("List-Unsubscribe-Post"),
        "rawHeaders": [[k, v] for k, v in msg.raw_items()],
        "ascii": all(b < 128 for b in raw),
        "parts": parts,
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
