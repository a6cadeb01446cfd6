"""The demo city's catalogue: categories and services with durations and what to bring.

German first, English second in every ``Text`` pair.
"""

from dataclasses import dataclass

Text = tuple[str, str]  # (German, English)

# --- Categories and services -------------------------------------------------------------------------------------

CATEGORIES: tuple[tuple[str, Text], ...] = (
    ("ausweise", ("Ausweise und Pässe", "ID cards and passports")),
    ("meldewesen", ("Meldewesen", "Registration of residence")),
    ("fahrzeuge", ("Fahrzeuge", "Vehicles")),
    ("urkunden", ("Urkunden und Bescheinigungen", "Certificates")),
    ("aufenthalt", ("Aufenthalt", "Residence")),
    ("abholung", ("Abholung", "Pickup")),
)


@dataclass(frozen=True)
class DemoService:
    slug: str
    category: str
    name: Text
    minutes: int  # per person
    max_persons: int
    description: Text
    bring: tuple[Text, ...]  # one item per line


ID_CARD: Text = ("Personalausweis oder Reisepass", "Identity card or passport")
PHOTO: Text = (
    "Digitales biometrisches Passfoto (Code vom Fotostudio) oder Aufnahme vor Ort",
    "Digital biometric passport photo (code from the photo studio) or have it taken here",
)
FEE: Text = ("Girocard oder Bargeld für die Gebühr", "Debit card or cash for the fee")
LANDLORD: Text = (
    "Wohnungsgeberbestätigung des Vermieters",
    "Landlord's confirmation of residence (Wohnungsgeberbestätigung)",
)
PASSPORT: Text = ("Gültiger Reisepass", "Valid passport")
RESIDENCE_PERMIT: Text = ("Bisheriger Aufenthaltstitel", "Your current residence permit")

SERVICES: tuple[DemoService, ...] = (
    DemoService(
        "personalausweis",
        "ausweise",
        ("Personalausweis beantragen", "Apply for an identity card"),
        15,
        5,
        (
            "Der Personalausweis gilt zehn Jahre, für Personen unter 24 Jahren sechs Jahre. "
            "Er ist etwa vier Wochen nach dem Antrag abholbereit.",
            "The identity card is valid for ten years, or six years for people under 24. "
            "It is ready for pickup about four weeks after you apply.",
        ),
        (
            ("Bisheriger Personalausweis oder Reisepass", "Your current identity card or passport"),
            PHOTO,
            ("Bei Kindern: Zustimmung aller Sorgeberechtigten", "For children: consent of all parents or guardians"),
            FEE,
        ),
    ),
    DemoService(
        "reisepass",
        "ausweise",
        ("Reisepass beantragen", "Apply for a passport"),
        15,
        5,
        (
            "Der Reisepass gilt zehn Jahre, für Personen unter 24 Jahren sechs Jahre. "
            "Die Herstellung dauert etwa vier bis sechs Wochen.",
            "The passport is valid for ten years, or six years for people under 24. "
            "Production takes about four to six weeks.",
        ),
        (("Bisheriger Reisepass oder Personalausweis", "Your current passport or identity card"), PHOTO, FEE),
    ),
    DemoService(
        "reisepass-express",
        "ausweise",
        ("Express-Reisepass beantragen", "Apply for an express passport"),
        15,
        5,
        (
            "Gegen einen Aufpreis wird der Reisepass in etwa drei Werktagen hergestellt. "
            "Bitte buchen Sie die Abholung gleich mit.",
            "For an extra fee the passport is produced in about three working days. Please book the pickup as well.",
        ),
        (("Bisheriger Reisepass oder Personalausweis", "Your current passport or identity card"), PHOTO, FEE),
    ),
    DemoService(
        "reisepass-kind",
        "ausweise",
        ("Reisepass für ein Kind beantragen", "Apply for a passport for a child"),
        15,
        4,
        (
            "Seit 2024 werden keine Kinderreisepässe mehr ausgestellt; Kinder erhalten einen Reisepass "
            "oder Personalausweis. Das Kind muss beim Antrag dabei sein.",
            "Since 2024 children's passports (Kinderreisepass) are no longer issued; children get a regular "
            "passport or identity card. The child must be present when you apply.",
        ),
        (
            ("Geburtsurkunde des Kindes", "The child's birth certificate"),
            ("Ausweise der Sorgeberechtigten", "ID documents of the parents or guardians"),
            (
                "Schriftliche Zustimmung des abwesenden Elternteils mit Kopie seines Ausweises",
                "Written consent of the absent parent with a copy of their ID",
            ),
            PHOTO,
            FEE,
        ),
    ),
    DemoService(
        "vorlaeufiger-personalausweis",
        "ausweise",
        ("Vorläufigen Personalausweis beantragen", "Apply for a temporary identity card"),
        10,
        5,
        (
            "Wenn Sie kurzfristig einen Ausweis brauchen, stellen wir einen vorläufigen Personalausweis sofort aus. "
            "Er gilt höchstens drei Monate.",
            "If you need an ID document at short notice, we issue a temporary identity card on the spot. "
            "It is valid for up to three months.",
        ),
        (("Bisheriger Ausweis oder Geburtsurkunde", "Your old ID document or birth certificate"), PHOTO, FEE),
    ),
    DemoService(
        "verlust-ausweis",
        "ausweise",
        ("Verlust eines Ausweises melden", "Report a lost ID document"),
        10,
        1,
        (
            "Melden Sie einen verlorenen oder gestohlenen Personalausweis oder Reisepass, damit er gesperrt wird. "
            "Einen neuen Ausweis können Sie im selben Termin beantragen, wenn Sie ihn mitbuchen.",
            "Report a lost or stolen identity card or passport so that it is blocked. "
            "You can apply for a new one in the same appointment if you book it as well.",
        ),
        (
            ("Ein anderes Ausweisdokument, falls vorhanden", "Another ID document, if you have one"),
            ("Bei Diebstahl: Anzeige der Polizei", "If it was stolen: the police report"),
        ),
    ),
    DemoService(
        "anmeldung",
        "meldewesen",
        ("Anmeldung einer Wohnung", "Register your address"),
        15,
        8,
        (
            "Nach einem Umzug nach Musterstadt oder innerhalb der Stadt melden Sie sich innerhalb von zwei Wochen an. "
            "Alle Personen eines Haushalts können gemeinsam angemeldet werden.",
            "After moving to Musterstadt or within the city, register within two weeks. "
            "Everyone in one household can be registered together.",
        ),
        (
            ("Personalausweis oder Reisepass jeder Person", "Identity card or passport of each person"),
            LANDLORD,
            ("Bei Kindern: Geburtsurkunde", "For children: birth certificate"),
        ),
    ),
    DemoService(
        "abmeldung",
        "meldewesen",
        ("Abmeldung bei Wegzug ins Ausland", "Deregistration when moving abroad"),
        10,
        8,
        (
            "Wenn Sie ins Ausland ziehen, melden Sie sich frühestens eine Woche vor dem Auszug ab. "
            "Bei einem Umzug innerhalb Deutschlands genügt die Anmeldung am neuen Wohnort.",
            "If you move abroad, deregister no earlier than one week before you move out. "
            "When moving within Germany, registering at your new home is enough.",
        ),
        (
            ("Personalausweis oder Reisepass jeder Person", "Identity card or passport of each person"),
            ("Neue Anschrift im Ausland, falls bekannt", "Your new address abroad, if known"),
        ),
    ),
    DemoService(
        "meldebescheinigung",
        "meldewesen",
        ("Meldebescheinigung", "Registration certificate"),
        5,
        5,
        (
            "Bescheinigung über Ihre aktuelle Anschrift, zum Beispiel für Arbeitgeber oder Bank. "
            "Sie erhalten sie sofort.",
            "Confirms your current address, for example for your employer or bank. You receive it immediately.",
        ),
        (ID_CARD, FEE),
    ),
    DemoService(
        "melderegisterauskunft",
        "meldewesen",
        ("Einfache Melderegisterauskunft", "Simple information from the population register"),
        10,
        1,
        (
            "Sie erhalten Name und aktuelle Anschrift einer Person, die in Musterstadt gemeldet ist, zum Beispiel "
            "um eine Forderung zuzustellen. Eine Auskunftssperre wird beachtet.",
            "You receive the name and current address of a person registered in Musterstadt, for example to serve "
            "a claim. A block on disclosure is respected.",
        ),
        (
            ID_CARD,
            (
                "Bekannte Angaben zur gesuchten Person: Name, Geburtsdatum, frühere Anschrift",
                "What you know about the person: name, date of birth, previous address",
            ),
            FEE,
        ),
    ),
    DemoService(
        "ummeldung-fahrzeug",
        "fahrzeuge",
        ("Ummeldung mit Fahrzeug", "Change of address with vehicle registration"),
        30,
        1,
        (
            "Anmeldung der neuen Wohnung und Änderung der Anschrift in den Fahrzeugpapieren in einem Termin. "
            "Ihr Kennzeichen können Sie behalten.",
            "Register your new address and have it changed in your vehicle documents in one appointment. "
            "You can keep your number plate.",
        ),
        (
            ID_CARD,
            LANDLORD,
            ("Zulassungsbescheinigung Teil I (Fahrzeugschein)", "Vehicle registration certificate part I"),
            FEE,
        ),
    ),
    DemoService(
        "bewohnerparkausweis",
        "fahrzeuge",
        ("Bewohnerparkausweis beantragen", "Apply for a residents' parking permit"),
        10,
        1,
        (
            "Wer in einer Bewohnerparkzone gemeldet ist, erhält einen Parkausweis für ein eigenes oder dauerhaft "
            "genutztes Fahrzeug. Er gilt ein Jahr.",
            "If you are registered in a residents' parking zone, you can get a permit for a vehicle you own or "
            "use permanently. It is valid for one year.",
        ),
        (
            ID_CARD,
            ("Zulassungsbescheinigung Teil I (Fahrzeugschein)", "Vehicle registration certificate part I"),
            ("Bei einem Firmenwagen: Bestätigung des Arbeitgebers", "For a company car: your employer's confirmation"),
            FEE,
        ),
    ),
    DemoService(
        "fuehrungszeugnis",
        "urkunden",
        ("Führungszeugnis beantragen", "Apply for a certificate of good conduct"),
        10,
        2,
        (
            "Das Führungszeugnis stellt das Bundesamt für Justiz aus; es kommt nach etwa zwei Wochen per Post. "
            "Für eine Behörde wird es direkt dorthin geschickt.",
            "The certificate is issued by the Federal Office of Justice and arrives by post after about two weeks. "
            "For a public authority it is sent there directly.",
        ),
        (
            ID_CARD,
            (
                "Für ein erweitertes Führungszeugnis: schriftliche Aufforderung der Stelle",
                "For an extended certificate: the written request of the organisation",
            ),
            FEE,
        ),
    ),
    DemoService(
        "gewerbezentralregister",
        "urkunden",
        ("Auskunft aus dem Gewerbezentralregister", "Extract from the central trade register"),
        10,
        1,
        (
            "Die Auskunft wird zum Beispiel für eine Gewerbeerlaubnis oder eine öffentliche Ausschreibung verlangt. "
            "Das Bundesamt für Justiz schickt sie per Post.",
            "The extract is required, for example, for a trade licence or a public tender. "
            "The Federal Office of Justice sends it by post.",
        ),
        (
            ID_CARD,
            (
                "Für eine Firma: Handelsregisterauszug und Nachweis der Vertretungsbefugnis",
                "For a company: commercial register extract and proof of authority to represent it",
            ),
            FEE,
        ),
    ),
    DemoService(
        "beglaubigung",
        "urkunden",
        ("Amtliche Beglaubigung", "Certified copy"),
        10,
        1,
        (
            "Wir beglaubigen Kopien von Dokumenten und Unterschriften zur Vorlage bei Behörden. "
            "Bitte bringen Sie die Dokumente im Original mit.",
            "We certify copies of documents and signatures for use with public authorities. "
            "Please bring the original documents.",
        ),
        (("Das Original und die Kopien", "The original and the copies"), ID_CARD, FEE),
    ),
    DemoService(
        "lebensbescheinigung",
        "urkunden",
        ("Lebensbescheinigung für die Rente", "Life certificate for a pension"),
        5,
        2,
        (
            "Wir bestätigen einer Rentenstelle, dass Sie leben, zum Beispiel für eine Rente aus dem Ausland. "
            "Die Bestätigung ist gebührenfrei.",
            "We confirm to a pension office that you are alive, for example for a pension from abroad. "
            "There is no fee.",
        ),
        (ID_CARD, ("Das Formular der Rentenstelle", "The pension office's form")),
    ),
    DemoService(
        "geburtsurkunde",
        "urkunden",
        ("Geburtsurkunde beantragen", "Apply for a birth certificate"),
        15,
        1,
        (
            "Für Geburten in Musterstadt stellen wir Geburtsurkunden und beglaubigte Registerausdrucke aus. "
            "Berechtigt sind die Person selbst, ihre Eltern, Kinder und Ehegatten.",
            "For births in Musterstadt we issue birth certificates and certified register extracts. "
            "The person, their parents, children and spouse may apply.",
        ),
        (
            ID_CARD,
            (
                "Für eine andere Person: Nachweis der Verwandtschaft oder Vollmacht",
                "For someone else: proof of kinship or a power of attorney",
            ),
            FEE,
        ),
    ),
    DemoService(
        "eheschliessung-anmeldung",
        "urkunden",
        ("Anmeldung der Eheschließung", "Give notice of marriage"),
        30,
        2,
        (
            "Beide Partner melden die Eheschließung gemeinsam an; die Trauung kann dann innerhalb von sechs Monaten "
            "stattfinden. Bitte buchen Sie den Termin für zwei Personen.",
            "Both partners give notice of marriage together; the wedding can then take place within six months. "
            "Please book the appointment for two persons.",
        ),
        (
            ("Personalausweis oder Reisepass beider Partner", "Identity card or passport of both partners"),
            (
                "Beglaubigter Ausdruck aus dem Geburtenregister, nicht älter als sechs Monate",
                "Certified extract from the birth register, no older than six months",
            ),
            (
                "Bei früherer Ehe: Nachweis der Auflösung, zum Beispiel das Scheidungsurteil",
                "If previously married: proof that the marriage ended, for example the divorce decree",
            ),
            FEE,
        ),
    ),
    DemoService(
        "sterbefall",
        "urkunden",
        ("Sterbefall beurkunden", "Register a death"),
        30,
        1,
        (
            "Ein Sterbefall muss spätestens am dritten Werktag beim Standesamt angezeigt werden. "
            "Oft übernimmt das ein Bestattungsunternehmen für Sie.",
            "A death must be reported to the civil registry by the third working day. "
            "A funeral home often does this for you.",
        ),
        (
            ("Todesbescheinigung des Arztes", "The doctor's death certificate"),
            ("Ausweis der verstorbenen Person", "ID document of the deceased"),
            (
                "Geburts- oder Heiratsurkunde der verstorbenen Person",
                "Birth or marriage certificate of the deceased",
            ),
            ("Ihr eigener Ausweis", "Your own ID document"),
        ),
    ),
    DemoService(
        "aufenthaltstitel-verlaengerung",
        "aufenthalt",
        ("Aufenthaltstitel verlängern", "Extend a residence permit"),
        30,
        5,
        (
            "Stellen Sie den Antrag rechtzeitig vor Ablauf Ihres Aufenthaltstitels. "
            "Der neue elektronische Aufenthaltstitel wird nach dem Termin in der Bundesdruckerei hergestellt.",
            "Apply in good time before your residence permit expires. "
            "The new electronic residence permit is produced by the Federal Printing Office after the appointment.",
        ),
        (
            PASSPORT,
            RESIDENCE_PERMIT,
            PHOTO,
            (
                "Nachweise zum Aufenthaltszweck, zum Beispiel Arbeitsvertrag oder Immatrikulationsbescheinigung",
                "Proof of the purpose of your stay, for example employment contract or certificate of enrolment",
            ),
            ("Nachweis der Krankenversicherung", "Proof of health insurance"),
        ),
    ),
    DemoService(
        "niederlassungserlaubnis",
        "aufenthalt",
        ("Niederlassungserlaubnis beantragen", "Apply for a settlement permit"),
        45,
        4,
        (
            "Die Niederlassungserlaubnis ist ein unbefristeter Aufenthaltstitel. "
            "Die Voraussetzungen hängen vom bisherigen Aufenthaltszweck ab; wir prüfen sie im Termin mit Ihnen.",
            "The settlement permit is a permanent residence permit. "
            "The requirements depend on the purpose of your stay so far; we go through them with you.",
        ),
        (
            PASSPORT,
            RESIDENCE_PERMIT,
            PHOTO,
            (
                "Nachweise über Einkommen und Rentenversicherungszeiten",
                "Proof of income and pension insurance contributions",
            ),
            ("Sprachzertifikat (mindestens B1)", "Language certificate (at least B1)"),
            ("Zertifikat „Leben in Deutschland“", "'Life in Germany' test certificate"),
        ),
    ),
    DemoService(
        "verpflichtungserklaerung",
        "aufenthalt",
        ("Verpflichtungserklärung abgeben", "Sign a declaration of commitment"),
        30,
        1,
        (
            "Mit der Verpflichtungserklärung übernehmen Sie die Kosten für den Aufenthalt eines Gastes aus dem "
            "Ausland, etwa für ein Besuchsvisum. Dafür prüfen wir Ihr Einkommen.",
            "With a declaration of commitment you cover the costs of a foreign guest's stay, for example for a "
            "visitor's visa. We check your income for this.",
        ),
        (
            (
                "Ausweis, bei ausländischen Staatsangehörigen mit Aufenthaltstitel",
                "ID document, with your residence permit if you are not a German citizen",
            ),
            ("Einkommensnachweise der letzten drei Monate", "Proof of income for the last three months"),
            ("Mietvertrag", "Rental agreement"),
            ("Passdaten des Gastes", "Your guest's passport details"),
            FEE,
        ),
    ),
    DemoService(
        "abholung-ausweis",
        "abholung",
        ("Abholung Personalausweis oder Reisepass", "Pickup of an identity card or passport"),
        5,
        5,
        (
            "Holen Sie Ihren fertigen Ausweis ab, sobald Sie benachrichtigt wurden. "
            "Die Abholung geht schnell und hat eigene Termine.",
            "Collect your finished document once you have been notified. Pickups are quick and have their own "
            "appointments.",
        ),
        (
            ("Ihr bisheriges Dokument (es wird entwertet)", "Your old document (it will be invalidated)"),
            ("Beim Personalausweis: den PIN-Brief", "For an identity card: the PIN letter"),
            (
                "Bei Abholung durch eine andere Person: Vollmacht und deren Ausweis",
                "If someone else collects it: a power of attorney and their ID document",
            ),
        ),
    ),
    DemoService(
        "abholung-aufenthaltstitel",
        "abholung",
        ("Abholung elektronischer Aufenthaltstitel", "Pickup of an electronic residence permit"),
        10,
        5,
        (
            "Wir händigen Ihnen den fertigen elektronischen Aufenthaltstitel aus, sobald Sie benachrichtigt wurden. "
            "Bitte kommen Sie persönlich.",
            "We hand over your finished electronic residence permit once you have been notified. "
            "Please come in person.",
        ),
        (PASSPORT, RESIDENCE_PERMIT, ("Den PIN-Brief", "The PIN letter")),
    ),
)

# What each kind of office offers (slugs from SERVICES).
CITIZEN_SERVICES = (
    "personalausweis",
    "reisepass",
    "reisepass-express",
    "reisepass-kind",
    "vorlaeufiger-personalausweis",
    "verlust-ausweis",
    "anmeldung",
    "abmeldung",
    "meldebescheinigung",
    "melderegisterauskunft",
    "ummeldung-fahrzeug",
    "bewohnerparkausweis",
    "fuehrungszeugnis",
    "gewerbezentralregister",
    "beglaubigung",
    "lebensbescheinigung",
    "abholung-ausweis",
)
SMALL_CITIZEN_SERVICES = tuple(slug for slug in CITIZEN_SERVICES if slug != "ummeldung-fahrzeug")
MOBILE_SERVICES = (
    "personalausweis",
    "reisepass",
    "anmeldung",
    "meldebescheinigung",
    "fuehrungszeugnis",
    "abholung-ausweis",
)
CIVIL_REGISTRY_SERVICES = ("geburtsurkunde", "eheschliessung-anmeldung", "sterbefall")
IMMIGRATION_SERVICES = (
    "aufenthaltstitel-verlaengerung",
    "niederlassungserlaubnis",
    "verpflichtungserklaerung",
    "abholung-aufenthaltstitel",
)
