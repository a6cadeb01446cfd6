"""The demo city's offices: addresses, weekly hours, offered services and dates relative to today.

German first, English second in every ``Text`` pair. ``seed.py`` writes these tables.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from demo.catalogue import (
    CITIZEN_SERVICES,
    CIVIL_REGISTRY_SERVICES,
    IMMIGRATION_SERVICES,
    MOBILE_SERVICES,
    SMALL_CITIZEN_SERVICES,
    Text,
)
from offices.models import Office, Weekday

Hours = Mapping[Weekday, tuple[str, ...]]  # weekday -> ranges "HH:MM-HH:MM"

CITY = "Musterstadt"
ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@musterstadt.example"
ADMIN_LOGIN_FILE = "demo-admin-password"
ADMIN_PASSWORD_ENV = "DEMO_ADMIN_PASSWORD"  # noqa: S105 - the name of an environment variable


# --- Weekly hours ---------------------------------------------------------------------------------------------------

MON, TUE, WED, THU, FRI = Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY

HOURS_CITIZEN: Hours = {
    MON: ("08:00-12:00", "13:00-16:00"),
    TUE: ("08:00-12:00", "13:00-18:00"),
    WED: ("08:00-12:00",),
    THU: ("08:00-12:00", "13:00-19:30"),
    FRI: ("08:00-12:00",),
}
HOURS_CITIZEN_EARLY: Hours = {
    MON: ("07:30-12:00", "13:00-16:00"),
    TUE: ("07:30-12:00", "13:00-18:00"),
    WED: ("07:30-12:00",),
    THU: ("07:30-12:00", "13:00-19:30"),
    FRI: ("07:30-12:00",),
}
HOURS_CENTRE: Hours = {
    MON: ("08:00-12:00", "13:00-18:00"),
    TUE: ("08:00-12:00", "13:00-18:00"),
    WED: ("08:00-13:00",),
    THU: ("08:00-12:00", "13:00-19:30"),
    FRI: ("08:00-13:00",),
}
HOURS_HARBOUR: Hours = {  # the late evening is on Tuesday here
    MON: ("08:00-12:00", "13:00-16:00"),
    TUE: ("08:00-12:00", "13:00-19:30"),
    WED: ("08:00-12:00",),
    THU: ("08:00-12:00", "13:00-18:00"),
    FRI: ("08:00-12:00",),
}
HOURS_SMALL: Hours = {  # smaller offices: closed on Wednesday
    MON: ("08:00-12:00",),
    TUE: ("08:00-12:00", "13:00-18:00"),
    THU: ("08:00-12:00", "13:00-19:30"),
    FRI: ("08:00-12:00",),
}
HOURS_OLD_TOWN: Hours = {
    MON: ("09:00-12:00", "13:00-16:00"),
    TUE: ("09:00-12:00", "13:00-18:00"),
    THU: ("09:00-12:00", "13:00-19:30"),
    FRI: ("09:00-12:00",),
}
HOURS_CIVIL_REGISTRY: Hours = {
    MON: ("09:00-12:00",),
    TUE: ("09:00-12:00", "13:00-18:00"),
    WED: ("09:00-12:00",),
    THU: ("09:00-12:00", "13:00-16:00"),
    FRI: ("09:00-12:00",),
}
HOURS_IMMIGRATION: Hours = {
    MON: ("07:30-12:00",),
    TUE: ("07:30-12:00", "13:00-18:00"),
    THU: ("07:30-12:00", "13:00-18:00"),
    FRI: ("07:30-12:00",),
}


# --- Offices --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoOffice:
    slug: str
    kind: str
    name: Text
    street: str
    postal_code: str
    directions: Text
    phone: str
    email: str
    step_free: bool
    accessibility_notes: Text
    hours: Hours
    services: tuple[str, ...]
    extra_minutes: int = 0  # added to every service's default duration
    adjust: Mapping[str, int] = field(default_factory=dict)  # service slug -> minutes added to the default
    confirm_email: bool = False  # online bookings final only once the e-mail address is confirmed


CITIZEN = Office.Kind.CITIZEN_OFFICE
MOBILE = Office.Kind.MOBILE_SITE
MOBILE_CONTACT = {"phone": "0341 555-1900", "email": "buergerkoffer@musterstadt.example"}

OFFICES: tuple[DemoOffice, ...] = (
    DemoOffice(
        "buergerbuero-zentrum",
        CITIZEN,
        ("Bürgerbüro Zentrum", "Citizens' Office City Centre"),
        "Rathausplatz 1",
        "04109",
        (
            "Straßenbahn 2, 8 und 9 bis Haltestelle Rathaus; Bus 60. Eingang B im Erdgeschoss des Neuen Rathauses. "
            "Parkhaus Rathaus-Galerie in 200 m Entfernung.",
            "Tram 2, 8 and 9 to the Rathaus stop; bus 60. Entrance B on the ground floor of the New Town Hall. "
            "Rathaus-Galerie car park 200 m away.",
        ),
        "0341 555-1000",
        "buergerbuero.zentrum@musterstadt.example",
        True,
        (
            "Stufenloser Eingang mit automatischer Tür, barrierefreies WC, induktive Höranlage an Schalter 1, "
            "zwei Behindertenparkplätze vor Eingang B.",
            "Step-free entrance with automatic door, accessible toilet, induction loop at counter 1, "
            "two disabled parking spaces outside entrance B.",
        ),
        HOURS_CENTRE,
        CITIZEN_SERVICES,
        adjust={"anmeldung": -5},
    ),
    DemoOffice(
        "buergerbuero-nord",
        CITIZEN,
        ("Bürgerbüro Nord", "Citizens' Office North"),
        "Nordplatz 7",
        "04155",
        (
            "Straßenbahn 4 und 12 bis Nordplatz; Bus 80 und 90. Im Stadtteilzentrum Nord, 1. Obergeschoss. "
            "Kostenlose Parkplätze im Hof.",
            "Tram 4 and 12 to Nordplatz; bus 80 and 90. In the North district centre, first floor. "
            "Free parking in the courtyard.",
        ),
        "0341 555-1100",
        "buergerbuero.nord@musterstadt.example",
        True,
        (
            "Aufzug vom Hof aus, barrierefreies WC im Erdgeschoss.",
            "Lift from the courtyard, accessible toilet on the ground floor.",
        ),
        HOURS_CITIZEN,
        CITIZEN_SERVICES,
    ),
    DemoOffice(
        "buergerbuero-sued",
        CITIZEN,
        ("Bürgerbüro Süd", "Citizens' Office South"),
        "Südallee 42",
        "04275",
        (
            "Straßenbahn 10 und 11 bis Südallee; Bus 70. Eingang über den Innenhof.",
            "Tram 10 and 11 to Südallee; bus 70. Entrance through the inner courtyard.",
        ),
        "0341 555-1200",
        "buergerbuero.sued@musterstadt.example",
        True,
        (
            "Rampe am Eingang, barrierefreies WC, höhenverstellbarer Schalter.",
            "Ramp at the entrance, accessible toilet, height-adjustable counter.",
        ),
        HOURS_CITIZEN_EARLY,
        CITIZEN_SERVICES,
        adjust={"ummeldung-fahrzeug": 5},
    ),
    DemoOffice(
        "buergerbuero-ost",
        CITIZEN,
        ("Bürgerbüro Ost", "Citizens' Office East"),
        "Ostring 15",
        "04315",
        (
            "Straßenbahn 1 und 3 bis Ostring; S-Bahn S1 bis Musterstadt Ost, dann 5 Minuten zu Fuß.",
            "Tram 1 and 3 to Ostring; S-Bahn S1 to Musterstadt Ost, then a 5-minute walk.",
        ),
        "0341 555-1300",
        "buergerbuero.ost@musterstadt.example",
        True,
        (
            "Stufenloser Zugang, Aufzug, barrierefreies WC, Leitsystem für blinde und sehbehinderte Menschen.",
            "Step-free access, lift, accessible toilet, tactile guidance for blind and partially sighted people.",
        ),
        HOURS_CITIZEN,
        CITIZEN_SERVICES,
        adjust={"personalausweis": 5, "reisepass": 5},
    ),
    DemoOffice(
        "buergerbuero-west",
        CITIZEN,
        ("Bürgerbüro West", "Citizens' Office West"),
        "Westplatz 3",
        "04177",
        (
            "Straßenbahn 7 und 15 bis Westplatz; Bus 72. Im Verwaltungsgebäude am Westplatz, Erdgeschoss.",
            "Tram 7 and 15 to Westplatz; bus 72. In the administration building on Westplatz, ground floor.",
        ),
        "0341 555-1400",
        "buergerbuero.west@musterstadt.example",
        True,
        (
            "Stufenloser Eingang, barrierefreies WC, Behindertenparkplatz vor dem Haus.",
            "Step-free entrance, accessible toilet, disabled parking space in front of the building.",
        ),
        HOURS_CITIZEN,
        CITIZEN_SERVICES,
        adjust={"anmeldung": 5},
    ),
    DemoOffice(
        "buergerbuero-altstadt",
        CITIZEN,
        ("Bürgerbüro Altstadt", "Citizens' Office Old Town"),
        "Am Alten Markt 9",
        "04103",
        (
            "Straßenbahn 2 und 4 bis Alter Markt. Das Büro liegt in der Fußgängerzone; "
            "das nächste Parkhaus ist am Kirchplatz.",
            "Tram 2 and 4 to Alter Markt. The office is in the pedestrian zone; the nearest car park is on Kirchplatz.",
        ),
        "0341 555-1500",
        "buergerbuero.altstadt@musterstadt.example",
        False,
        (
            "Historisches Gebäude mit drei Stufen am Eingang; auf Klingelzeichen legen wir eine mobile Rampe an. "
            "Kein barrierefreies WC. Stufenlos erreichbar ist das Bürgerbüro Zentrum.",
            "Historic building with three steps at the entrance; ring the bell and we put a mobile ramp in place. "
            "No accessible toilet. The Citizens' Office City Centre is step-free.",
        ),
        HOURS_OLD_TOWN,
        SMALL_CITIZEN_SERVICES,
        adjust={"beglaubigung": -5},
    ),
    DemoOffice(
        "buergerbuero-am-hafen",
        CITIZEN,
        ("Bürgerbüro Am Hafen", "Citizens' Office Harbour"),
        "Hafenstraße 21",
        "04179",
        (
            "Straßenbahn 14 bis Hafen; Bus 131 bis Speicherstraße. Im Hafenspeicher, 2. Obergeschoss.",
            "Tram 14 to Hafen; bus 131 to Speicherstraße. In the harbour warehouse, second floor.",
        ),
        "0341 555-1600",
        "buergerbuero.hafen@musterstadt.example",
        True,
        (
            "Aufzug im Speicher, barrierefreies WC, induktive Höranlage an allen Schaltern.",
            "Lift in the warehouse, accessible toilet, induction loops at all counters.",
        ),
        HOURS_HARBOUR,
        CITIZEN_SERVICES,
        adjust={"ummeldung-fahrzeug": -5},
    ),
    DemoOffice(
        "buergerbuero-lindenhof",
        CITIZEN,
        ("Bürgerbüro Lindenhof", "Citizens' Office Lindenhof"),
        "Lindenhofstraße 60",
        "04299",
        (
            "Bus 74 und 79 bis Lindenhof Mitte. Im Bürgerhaus Lindenhof, Erdgeschoss links.",
            "Bus 74 and 79 to Lindenhof Mitte. In the Lindenhof community centre, ground floor on the left.",
        ),
        "0341 555-1700",
        "buergerbuero.lindenhof@musterstadt.example",
        True,
        (
            "Stufenloser Zugang über den Seiteneingang, barrierefreies WC im Bürgerhaus.",
            "Step-free access through the side entrance, accessible toilet in the community centre.",
        ),
        HOURS_SMALL,
        SMALL_CITIZEN_SERVICES,
        adjust={"personalausweis": 5},
    ),
    DemoOffice(
        "buergerbuero-auenpark",
        CITIZEN,
        ("Bürgerbüro Auenpark", "Citizens' Office Auenpark"),
        "Auenweg 2",
        "04249",
        (
            "Straßenbahn 11 bis Auenpark (Endstelle); Bus 65. Im Einkaufszentrum Auenpark, Eingang Nord.",
            "Tram 11 to Auenpark (terminus); bus 65. In the Auenpark shopping centre, north entrance.",
        ),
        "0341 555-1800",
        "buergerbuero.auenpark@musterstadt.example",
        True,
        (
            "Stufenloser Zugang über das Einkaufszentrum, Aufzug, barrierefreies WC im Einkaufszentrum.",
            "Step-free access through the shopping centre, lift, accessible toilet in the shopping centre.",
        ),
        HOURS_SMALL,
        SMALL_CITIZEN_SERVICES,
        adjust={"meldebescheinigung": 5},
    ),
    DemoOffice(
        "buergerkoffer-bibliothek-parkviertel",
        MOBILE,
        ("Bürgerkoffer Stadtteilbibliothek Parkviertel", "Mobile citizens' service, Parkviertel Library"),
        "Parkstraße 12",
        "04229",
        (
            "Straßenbahn 3 bis Parkstraße; Bus 60. Im Lesesaal der Stadtteilbibliothek, 1. Obergeschoss.",
            "Tram 3 to Parkstraße; bus 60. In the reading room of the district library, first floor.",
        ),
        MOBILE_CONTACT["phone"],
        MOBILE_CONTACT["email"],
        True,
        ("Aufzug in der Bibliothek, barrierefreies WC.", "Lift in the library, accessible toilet."),
        {},
        MOBILE_SERVICES,
        extra_minutes=5,
    ),
    DemoOffice(
        "buergerkoffer-seniorenzentrum-rosental",
        MOBILE,
        ("Bürgerkoffer Seniorenzentrum Rosental", "Mobile citizens' service, Rosental Senior Centre"),
        "Rosentalweg 5",
        "04157",
        (
            "Bus 80 bis Rosentalweg. Im Veranstaltungsraum im Erdgeschoss.",
            "Bus 80 to Rosentalweg. In the event room on the ground floor.",
        ),
        MOBILE_CONTACT["phone"],
        MOBILE_CONTACT["email"],
        True,
        (
            "Stufenloser Zugang, barrierefreies WC, Sitzplätze im Wartebereich.",
            "Step-free access, accessible toilet, seats in the waiting area.",
        ),
        {},
        MOBILE_SERVICES,
        extra_minutes=5,
    ),
    DemoOffice(
        "standesamt",
        Office.Kind.CIVIL_REGISTRY,
        ("Standesamt Musterstadt", "Musterstadt Civil Registry Office"),
        "Schlossgasse 3",
        "04109",
        (
            "Straßenbahn 2, 8 und 9 bis Rathaus, dann 3 Minuten zu Fuß durch die Schlossgasse. "
            "Das Trauzimmer liegt im 1. Obergeschoss.",
            "Tram 2, 8 and 9 to Rathaus, then a 3-minute walk along Schlossgasse. "
            "The wedding room is on the first floor.",
        ),
        "0341 555-2000",
        "standesamt@musterstadt.example",
        True,
        (
            "Aufzug zum Trauzimmer, barrierefreies WC im Erdgeschoss.",
            "Lift to the wedding room, accessible toilet on the ground floor.",
        ),
        HOURS_CIVIL_REGISTRY,
        CIVIL_REGISTRY_SERVICES,
    ),
    DemoOffice(
        "auslaenderbehoerde",
        Office.Kind.IMMIGRATION_OFFICE,
        ("Ausländerbehörde Musterstadt", "Musterstadt Immigration Office"),
        "Bahnhofstraße 40",
        "04315",
        (
            "Straßenbahn 1 und 3 bis Bahnhofstraße; S-Bahn S1 bis Musterstadt Ost. Im Behördenzentrum Ost, Haus C.",
            "Tram 1 and 3 to Bahnhofstraße; S-Bahn S1 to Musterstadt Ost. In the East administration centre, "
            "building C.",
        ),
        "0341 555-2100",
        "auslaenderbehoerde@musterstadt.example",
        True,
        (
            "Stufenloser Eingang, Aufzug, barrierefreies WC. Videodolmetschen in vielen Sprachen auf Anfrage.",
            "Step-free entrance, lift, accessible toilet. Video interpreting in many languages on request.",
        ),
        HOURS_IMMIGRATION,
        IMMIGRATION_SERVICES,
        adjust={"niederlassungserlaubnis": 15},
        confirm_email=True,  # where resellers' bots go first
    ),
)


# --- Dates relative to today ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MobileDays:
    """The mobile site is open on these weeks of the month (1 = first) of one weekday."""

    office: str
    weekday: Weekday
    weeks: tuple[int, ...]
    hours: str
    note: Text


MOBILE_DAYS: tuple[MobileDays, ...] = (
    MobileDays(
        "buergerkoffer-bibliothek-parkviertel",
        Weekday.TUESDAY,
        (2, 4),
        "10:00-14:00",
        ("Bürgerkoffer in der Stadtteilbibliothek", "Mobile citizens' service in the district library"),
    ),
    MobileDays(
        "buergerkoffer-seniorenzentrum-rosental",
        Weekday.THURSDAY,
        (1, 3),
        "09:00-12:00",
        ("Bürgerkoffer im Seniorenzentrum", "Mobile citizens' service in the senior centre"),
    ),
)
MOBILE_WEEKS_AHEAD = 13  # about three months

EXTRA_SATURDAY_OFFICES = ("buergerbuero-zentrum", "buergerbuero-nord")
EXTRA_SATURDAY_HOURS = "09:00-13:00"
EXTRA_SATURDAY_NOTE: Text = ("Zusätzlicher Samstag", "Extra Saturday")

EVE_CLOSURES: tuple[tuple[int, int, Text], ...] = (  # (month, day, reason), this year and next
    (12, 24, ("Heiligabend", "Christmas Eve")),
    (12, 31, ("Silvester", "New Year's Eve")),
)

RENOVATION_OFFICE = "buergerbuero-west"
RENOVATION_WEEKS_AHEAD = 5
RENOVATION_REASON: Text = ("Renovierung", "Renovation")


# --- Staff ------------------------------------------------------------------------------------------------------------

# Clerks per office. Their weekly pattern follows the office's hours (a mobile site's: its days);
# every third clerk works mornings only (the first range of each day).
CLERKS: Mapping[str, int] = {
    "buergerbuero-zentrum": 8,
    "buergerbuero-nord": 6,
    "buergerbuero-sued": 5,
    "buergerbuero-ost": 5,
    "buergerbuero-west": 5,
    "buergerbuero-altstadt": 4,
    "buergerbuero-am-hafen": 5,
    "buergerbuero-lindenhof": 3,
    "buergerbuero-auenpark": 3,
    "buergerkoffer-bibliothek-parkviertel": 2,
    "buergerkoffer-seniorenzentrum-rosental": 2,
    "standesamt": 4,
    "auslaenderbehoerde": 6,
}
MANAGER_INDEX = 1  # the first clerk of every office is its manager
FIRST_NAMES = ("Anna", "Jonas", "Fatma", "Lukas", "Marie", "Olena", "Paul", "Sophie", "Mehmet", "Lea", "Tim", "Jana")
LAST_NAMES = ("Schulz", "Krüger", "Yılmaz", "Wagner", "Hoffmann", "Nowak", "Becker", "Richter", "Lange", "Koch")

# Weekday walk-in hours at every citizen office: these counters serve walk-ins only.
WALK_IN_HOURS = "08:00-10:00"
WALK_IN_COUNTERS = 2
WALK_IN_WEEKDAYS = (Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY)


@dataclass(frozen=True)
class DemoAbsence:
    office: str
    clerk: int  # 1-based number of the office's clerk
    kind: str
    starts_in_days: int
    days: int


ABSENCES: tuple[DemoAbsence, ...] = (
    DemoAbsence("buergerbuero-nord", 2, "sick", 1, 2),
    DemoAbsence("buergerbuero-zentrum", 3, "vacation", 14, 7),
    DemoAbsence("buergerbuero-sued", 2, "training", 7, 1),
    DemoAbsence("auslaenderbehoerde", 4, "sick", 0, 3),
)
