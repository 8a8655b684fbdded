"""Program cohorts: which are upcoming, which button a program shows, each cohort's .ics file and JSON-LD.

Everything here is a function of the program, the site's settings and the build's "now", so that a build with
`--now` shows the page as it will be on that day, and the same input always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .cache import RenderCache
from .config import Config
from .content import Page
from .urls import Urls, dest_for, with_utm

AVAILABILITY = {
    "open": "https://schema.org/InStock",
    "waitlist": "https://schema.org/PreOrder",
    "full": "https://schema.org/SoldOut",
}
STATUS_LABELS = {"open": "Seats open", "waitlist": "Waitlist", "full": "Full"}
PRODID = "-//kiln//program cohorts//EN"


@dataclass(frozen=True)
class Upcoming:
    """One cohort as the program page shows it: when it starts (in the site's time zone) and its calendar file."""

    start: dt.datetime
    end: dt.datetime  # the last weekly meeting
    status: str
    note: str | None
    calendar: str  # site-relative URL of its .ics file

    @property
    def when(self) -> str:
        """Return the start as readers write it: Wednesday 3 March 2027, 6:30 pm EST."""
        return f"{self.start:%A} {long_moment(self.start)}"

    @property
    def status_label(self) -> str:
        """Return the status as a reader reads it."""
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class Action:
    """The button a program page shows: what it says, where it leads and the host of that form."""

    label: str
    url: str
    host: str
    waitlist: bool = False


def upcoming(program: Page, now: dt.datetime, zone: ZoneInfo) -> tuple[Upcoming, ...]:
    """Return the cohorts that have not started by `now`, soonest first, in the site's time zone."""
    return tuple(
        Upcoming(
            start, last_meeting(start, program.duration_weeks), cohort.status, cohort.note, calendar_url(program, start)
        )
        for cohort in program.cohorts
        if cohort.start > now
        for start in [cohort.start.astimezone(zone)]
    )


def last_meeting(start: dt.datetime, weeks: int | None) -> dt.datetime:
    """Return the last weekly meeting: the same wall-clock time, whatever daylight saving does meanwhile."""
    # aware arithmetic with one tzinfo is wall-clock arithmetic; the offset is that of the day it lands on
    return start + dt.timedelta(weeks=(weeks or 1) - 1)


def calendar_url(program: Page, start: dt.datetime) -> str:
    """Return the site-relative URL of a cohort's .ics file, named by its first day."""
    return f"{program.url}{start.date().isoformat()}.ics"


def long_moment(moment: dt.datetime) -> str:
    """Return a date and time with its zone's abbreviation: 3 March 2027, 6:30 pm EST."""
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}"
    return f"{moment.day} {moment:%B %Y}, {hour}{minutes} {'am' if moment.hour < 12 else 'pm'} {moment:%Z}"


def action(program: Page, cohorts: tuple[Upcoming, ...], placement: str, utm_source: str) -> Action | None:
    """Return the program's button at one place on its page, or None when no cohort is upcoming.

    Without cohorts the button leads to the signup form as it always did; with them, "Reserve your seat" names
    the first open cohort's date, and "Join the waitlist" is offered when every upcoming cohort is full or has a
    waitlist.
    """
    if program.signup_url is None:
        return None
    params = {"utm_source": utm_source, "utm_medium": "website", "utm_campaign": program.slug}
    if not program.cohorts:
        url = with_utm(program.signup_url, params | {"utm_content": placement})
        return Action("Reserve your seat", url, _host(program.signup_url))
    if not cohorts:
        return None
    first_open = next((cohort for cohort in cohorts if cohort.status == "open"), None)
    if first_open is not None:
        url = with_utm(program.signup_url, params | {"utm_content": first_open.start.date().isoformat()})
        return Action("Reserve your seat", url, _host(program.signup_url))
    form = program.waitlist_url or program.signup_url
    return Action("Join the waitlist", with_utm(form, params | {"utm_content": "waitlist"}), _host(form), True)


def _host(url: str) -> str:
    """Return a form's host name, to tell readers where a button leads."""
    return urlsplit(url).hostname or url


def course_instances(program: Page, cohorts: Iterable[Upcoming]) -> list[dict[str, Any]]:
    """Return one schema.org CourseInstance per upcoming cohort, each with its offer."""
    instances = []
    for cohort in cohorts:
        instance: dict[str, Any] = {
            "@type": "CourseInstance",
            "courseMode": "Online",
            "startDate": cohort.start.isoformat(timespec="seconds"),
            "endDate": cohort.end.isoformat(timespec="seconds"),
            "courseSchedule": {
                "@type": "Schedule",
                "repeatFrequency": "P1W",
                "repeatCount": program.duration_weeks or 1,
                "byDay": f"https://schema.org/{cohort.start:%A}",
                "startTime": cohort.start.strftime("%H:%M"),
                "scheduleTimezone": str(cohort.start.tzinfo),
            },
            "offers": offer(program, cohort.status),
        }
        if program.duration_weeks:
            instance["courseWorkload"] = f"P{program.duration_weeks}W"
        if program.facilitator:
            instance["instructor"] = {"@type": "Person", "name": program.facilitator}
        instances.append(instance)
    return instances


def offer(program: Page, status: str | None) -> dict[str, Any]:
    """Return a schema.org Offer: the form, the price for machines and, for a cohort, its availability."""
    data: dict[str, Any] = {"@type": "Offer", "url": program.signup_url, "category": "Paid"}
    if program.price_amount is not None:
        data["price"] = program.price_amount
        data["priceCurrency"] = program.price_currency or "USD"
    if program.price:
        data["description"] = program.price
    if status is not None:
        data["availability"] = AVAILABILITY[status]
    return data


def overall_status(cohorts: tuple[Upcoming, ...]) -> str | None:
    """Return the availability of the program as a whole: open if any cohort is, else waitlist, else full."""
    statuses = {cohort.status for cohort in cohorts}
    return next((status for status in ("open", "waitlist", "full") if status in statuses), None)


@dataclass(frozen=True)
class CalendarJob:
    """One cohort's .ics file to find in the render cache or make: where it goes and what keys it."""

    dest: str
    key: str
    program: Page
    cohort: Upcoming


def calendar_jobs(programs: Iterable[Page], config: Config, now: dt.datetime) -> list[CalendarJob]:
    """Return the .ics file of every upcoming cohort to be published.

    Each is keyed by a hash of its program's key (its source, site.yaml and the generator) and the cohort, so a
    warm build finds it in the render cache and neither imports icalendar nor makes the file again.
    """
    return [
        CalendarJob(
            dest_for(cohort.calendar),
            hashlib.sha256(f"ics\0{program.key}\0{cohort.start.isoformat()}".encode()).hexdigest(),
            program,
            cohort,
        )
        for program in programs
        for cohort in upcoming(program, now, config.timezone)
    ]


def cached_calendars(jobs: list[CalendarJob], cache: RenderCache) -> dict[str, bytes]:
    """Return the .ics files the render cache holds (looked up while its file is open, before rendering)."""
    found = {}
    for job in jobs:
        if job.program.key and (data := cache.get(job.key)) is not None:
            found[job.dest] = data
    return found


def make_calendars(
    jobs: list[CalendarJob], found: dict[str, bytes], config: Config, cache: RenderCache
) -> dict[str, bytes]:
    """Return every job's .ics file: the ones found, and the others made now and kept in the render cache."""
    files = dict(found)
    for job in jobs:
        if job.dest not in files:
            files[job.dest] = data = calendar(job.program, job.cohort, config)
            cache.remember(job.key, data, hashlib.sha256(data).hexdigest())
    return files


def calendar(program: Page, cohort: Upcoming, config: Config) -> bytes:
    """Return an RFC 5545 calendar with the cohort's meetings: the first, then weekly for the program's length.

    The start is written in the site's time zone (with its VTIMEZONE), so every meeting keeps its wall-clock time
    across daylight saving changes. DTSTAMP is the first meeting itself, in UTC: it must say when the data was
    made, and a build's own clock would make every build's bytes differ.
    """
    import icalendar  # ~0.3 s to import: only when a calendar is made, never on a warm build

    urls = Urls(config.base_url)
    event = icalendar.Event()
    event.add("uid", f"{program.slug}-{cohort.start:%Y%m%dT%H%M}@{urlsplit(config.base_url).hostname}")
    event.add("dtstamp", cohort.start.astimezone(dt.UTC))
    event.add("dtstart", cohort.start)
    if program.session_minutes:
        event.add("duration", dt.timedelta(minutes=program.session_minutes))
    if program.duration_weeks and program.duration_weeks > 1:
        event.add("rrule", {"freq": "weekly", "count": program.duration_weeks})
    event.add("summary", f"{program.title} ({config.organisation})")
    event.add("description", f"{program.description}\n\n{urls.absolute(program.url)}")
    event.add("location", "Online")
    event.add("url", urls.absolute(program.url))
    ics = icalendar.Calendar()
    ics.add("prodid", PRODID)
    ics.add("version", "2.0")
    ics.add("calscale", "GREGORIAN")
    ics.add_component(event)
    ics.add_missing_timezones()
    return bytes(ics.to_ical())
