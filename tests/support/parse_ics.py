"""Parses an iCalendar document on stdin with the `icalendar` package (independent of the
writer under test) and prints its calendar properties and events as JSON.
"""
import json
import sys
from datetime import datetime, timezone

import icalendar


def instant(prop):
    if prop is None:
        return None
    dt = prop.dt
    if isinstance(dt, datetime):
        if dt.tzinfo is None:
            raise SystemExit("floating time in feed: %r" % dt)
        return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.isoformat()


def text(v):
    return None if v is None else str(v)


def main():
    raw = sys.stdin.buffer.read()
    cal = icalendar.Calendar.from_ical(raw)
    events = []
    for ev in cal.walk("VEVENT"):
        events.append({
            "uid": text(ev.get("UID")),
            "sequence": int(ev.get("SEQUENCE", 0)),
            "start": instant(ev.get("DTSTART")),
            "end": instant(ev.get("DTEND")),
            "stamp": instant(ev.get("DTSTAMP")),
            "status": text(ev.get("STATUS")),
            "summary": text(ev.get("SUMMARY")),
            "location": text(ev.get("LOCATION")),
            "description": text(ev.get("DESCRIPTION")),
            "organizer": text(ev.get("ORGANIZER")),
            "attendee": text(ev.get("ATTENDEE")),
        })
    print(json.dumps({
        "method": text(cal.get("METHOD")),
        "version": text(cal.get("VERSION")),
        "prodid": text(cal.get("PRODID")),
        "name": text(cal.get("X-WR-CALNAME")),
        "events": events,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
