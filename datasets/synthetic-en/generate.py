#!/usr/bin/env python3
"""Generate the synthetic English training set of obscura-es-en.

Short texts of many kinds (mail, chat, forms, notes, letters, records, lists) whose
personal data comes from Faker, labelled with Obscura's entity types. Titles ("Dr.", "Mrs.")
stay outside names; company names made of surnames are ORGANIZATION, not PERSON; some
texts hold no personal data at all, and some hold capitalised words that are not names.

    python3 -m venv venv && venv/bin/pip install Faker==40.63.0
    venv/bin/python generate.py --seed 1 --count 2400 > train.jsonl
    venv/bin/python generate.py --seed 2 --count 300 --prefix dev > dev.jsonl

The output depends only on the seed, the count and Faker's version.
"""

import argparse
import json
import random

from faker import Faker

# Locales whose names appear in English text; the first ones most often.
NAME_LOCALES = [
    ("en_US", 30), ("en_GB", 12), ("en_CA", 4), ("en_AU", 4), ("en_IE", 3), ("en_IN", 5),
    ("es_ES", 5), ("es_MX", 5), ("de_DE", 4), ("fr_FR", 4), ("it_IT", 4), ("pt_BR", 3),
    ("nl_NL", 2), ("pl_PL", 2), ("sv_SE", 1), ("tr_TR", 1), ("en_NZ", 1), ("fil_PH", 1),
]
PLACE_LOCALES = ["en_US", "en_US", "en_US", "en_GB", "en_CA", "en_AU"]

TITLES = ["Dr.", "Mr.", "Mrs.", "Ms.", "Miss", "Prof.", "Dr", "Mr", "Mrs", "Ms", "Sir", "Judge",
          "Officer", "Nurse", "Captain", "Rev.", "Coach", "Agent"]

# Capitalised words and phrases that are not personal data.
NOT_PII = [
    "Monday", "Friday", "January", "September", "Excel", "Windows", "Zoom", "Slack",
    "the Board", "Human Resources", "Accounts Payable", "the Terms of Service", "Python",
    "the Annual Report", "Customer Support", "Premium Plan", "Christmas", "Thanksgiving",
    "the Privacy Policy", "Quarterly Review", "the North Wing", "Building B", "Room 4",
    "the Oncology Department", "the Finance Team", "Version 2", "the Help Center",
    "Google Drive", "Dropbox", "Bluetooth", "Wi-Fi", "the Gold Package", "Appendix A",
]

LOWER_NOUNS = ["invoice", "meeting", "package", "report", "contract", "ticket", "account",
               "order", "refund", "appointment", "reservation", "subscription", "delivery"]


class Piece:
    """Text with its labelled spans, built left to right."""

    def __init__(self):
        self.text = ""
        self.spans = []

    def add(self, text, label=None):
        if label and text.strip():
            core = text.strip()
            start = len(self.text) + len(text) - len(text.lstrip())
            self.spans.append({"start": start, "end": start + len(core), "label": label})
        self.text += text


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.fakers = {}
        for index, (locale, _) in enumerate(NAME_LOCALES):
            faker = Faker(locale)
            faker.seed_instance(seed * 1000 + index)
            self.fakers[locale] = faker
        for index, locale in enumerate(PLACE_LOCALES):
            if locale not in self.fakers:
                faker = Faker(locale)
                faker.seed_instance(seed * 1000 + 100 + index)
                self.fakers[locale] = faker

    def name_faker(self):
        locales = [locale for locale, _ in NAME_LOCALES]
        weights = [weight for _, weight in NAME_LOCALES]
        return self.fakers[self.rng.choices(locales, weights)[0]]

    def place_faker(self):
        return self.fakers[self.rng.choice(PLACE_LOCALES)]

    # Values -----------------------------------------------------------------------------

    def person(self, style=None):
        faker = self.name_faker()
        female = self.rng.random() < 0.5
        first = faker.first_name_female() if female else faker.first_name_male()
        last = faker.last_name()
        style = style or self.rng.choices(
            ["full", "first", "last", "initial", "middle", "inverted", "double"],
            [50, 14, 10, 6, 8, 5, 7])[0]
        if style == "first":
            name = first
        elif style == "last":
            name = last
        elif style == "initial":
            name = f"{first} {self.rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
        elif style == "middle":
            middle = faker.first_name_female() if female else faker.first_name_male()
            name = f"{first} {middle} {last}"
        elif style == "inverted":
            name = f"{last}, {first}"
        elif style == "double":
            name = f"{first} {last}-{faker.last_name()}" if self.rng.random() < 0.5 \
                else f"{first} {last} {faker.last_name()}"
        else:
            name = f"{first} {last}"
        casing = self.rng.random()
        if casing < 0.04:
            name = name.upper()
        elif casing < 0.08:
            name = name.lower()
        return name

    def title(self):
        return self.rng.choice(TITLES)

    def organization(self):
        roll = self.rng.random()
        faker = self.place_faker()
        if roll < 0.7:
            return faker.company()
        if roll < 0.85:
            return f"{faker.city()} {self.rng.choice(['General Hospital', 'Medical Center', 'Community College', 'Credit Union', 'Public Library', 'Clinic', 'High School'])}"
        return f"{self.rng.choice(['St.', 'Saint'])} {faker.first_name()}'s {self.rng.choice(['Hospital', 'School', 'Church'])}"

    def city(self):
        return self.place_faker().city()

    def state(self):
        faker = self.fakers["en_US"]
        return faker.state() if self.rng.random() < 0.6 else faker.state_abbr()

    def country(self):
        return self.fakers["en_US"].country()

    def street(self):
        faker = self.place_faker()
        street = faker.street_address()
        if self.rng.random() < 0.15 and hasattr(faker, "secondary_address"):
            street += f" {faker.secondary_address()}" if self.rng.random() < 0.5 \
                else f", {faker.secondary_address()}"
        return street

    def zip(self):
        return self.fakers["en_US"].zipcode()

    def email(self, name=None):
        faker = self.name_faker()
        if name and self.rng.random() < 0.5:
            parts = [part.strip(".,").lower() for part in name.replace("-", " ").split()]
            parts = [p for p in parts if p.isascii() and p.isalpha()]
            if parts:
                local = self.rng.choice([".", "_", ""]).join(parts[:2])
                return f"{local}@{faker.free_email_domain() if self.rng.random() < 0.5 else faker.domain_name()}"
        return faker.email() if self.rng.random() < 0.5 else faker.free_email()

    def phone(self):
        faker = self.place_faker()
        roll = self.rng.random()
        if roll < 0.6:
            return faker.phone_number()
        digits = [str(self.rng.randint(0, 9)) for _ in range(10)]
        digits[0] = str(self.rng.randint(2, 9))
        d = "".join(digits)
        return self.rng.choice([f"({d[:3]}) {d[3:6]}-{d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}",
                                f"{d[:3]}.{d[3:6]}.{d[6:]}", f"+1 {d[:3]} {d[3:6]} {d[6:]}"])

    def date(self):
        faker = self.fakers["en_US"]
        value = faker.date_between(start_date="-80y", end_date="+2y")
        return value.strftime(self.rng.choice([
            "%B %d, %Y", "%m/%d/%Y", "%d %B %Y", "%Y-%m-%d", "%b %d", "%B %Y", "%d/%m/%Y",
            "%A, %B %d", "%b. %d, %Y"]))

    def age(self):
        return str(self.rng.randint(1, 99))

    def url(self):
        return self.place_faker().url()

    # Texts ------------------------------------------------------------------------------

    def text(self):
        kind = self.rng.choices(
            ["sentence", "sentence", "sentence", "mail", "chat", "form", "list", "signature",
             "record", "negative", "company"], [8, 8, 8, 6, 6, 5, 4, 3, 4, 4, 5])[0]
        piece = Piece()
        getattr(self, f"text_{kind}")(piece)
        return piece

    def fill(self, piece, template, values=None):
        """Write `template`, replacing `{KEY}` with a generated value labelled with its type."""
        values = values or {}
        rest = template
        while "{" in rest:
            before, _, after = rest.partition("{")
            key, _, rest = after.partition("}")
            piece.add(before)
            value, label = values[key] if key in values else self.value(key)
            piece.add(value, label)
        piece.add(rest)

    def value(self, key):
        generators = {
            "NAME": (self.person, "PERSON"), "FIRST": (lambda: self.person("first"), "PERSON"),
            "LAST": (lambda: self.person("last"), "PERSON"),
            "FULL": (lambda: self.person("full"), "PERSON"),
            "ORG": (self.organization, "ORGANIZATION"), "CITY": (self.city, "LOCATION"),
            "STATE": (self.state, "LOCATION"), "COUNTRY": (self.country, "LOCATION"),
            "STREET": (self.street, "ADDRESS"), "ZIP": (self.zip, "POSTAL_CODE"),
            "EMAIL": (self.email, "EMAIL_ADDRESS"), "PHONE": (self.phone, "PHONE_NUMBER"),
            "DATE": (self.date, "DATE_TIME"), "AGE": (self.age, "AGE"), "URL": (self.url, "URL"),
            "TITLE": (self.title, None), "NOTPII": (lambda: self.rng.choice(NOT_PII), None),
            "NOUN": (lambda: self.rng.choice(LOWER_NOUNS), None),
        }
        make, label = generators[key]
        return make(), label

    def text_sentence(self, piece):
        self.fill(piece, self.rng.choice(SENTENCES))

    def text_negative(self, piece):
        self.fill(piece, self.rng.choice(NEGATIVES))

    def text_company(self, piece):
        self.fill(piece, self.rng.choice(COMPANY_SENTENCES))

    def text_mail(self, piece):
        sender = self.person(self.rng.choice(["full", "full", "initial", "middle"]))
        recipient = self.person("first")
        self.fill(piece, self.rng.choice(["Hi {R},\n\n", "Dear {T} {L},\n\n", "Hello {R}!\n\n",
                                          "{R} -\n\n"]),
                  {"R": (recipient, "PERSON"), "T": (self.title(), None),
                   "L": (self.person("last"), "PERSON")})
        for _ in range(self.rng.randint(1, 2)):
            self.fill(piece, self.rng.choice(SENTENCES))
            piece.add(" ")
        self.fill(piece, self.rng.choice(["\n\nBest,\n{S}", "\n\nThanks,\n{S}\n{ORG}",
                                          "\n\nRegards,\n{S}\n{PHONE}",
                                          "\n\nCheers, {F}", "\n\nSincerely,\n\n{S}\n{E}"]),
                  {"S": (sender, "PERSON"), "F": (sender.split()[0], "PERSON"),
                   "E": (self.email(sender), "EMAIL_ADDRESS")})

    def text_chat(self, piece):
        people = [self.person("first") for _ in range(2)]
        for turn in range(self.rng.randint(2, 4)):
            speaker = people[turn % 2]
            piece.add(speaker, "PERSON")
            piece.add(self.rng.choice([": ", " said: ", " > ", ": "]))
            self.fill(piece, self.rng.choice(CHAT_LINES),
                      {"OTHER": (people[(turn + 1) % 2], "PERSON")})
            piece.add("\n")

    def text_form(self, piece):
        name = self.person(self.rng.choice(["full", "full", "middle", "inverted", "initial"]))
        fields = [("Name", name, "PERSON"), ("Email", self.email(name), "EMAIL_ADDRESS"),
                  ("Phone", self.phone(), "PHONE_NUMBER"),
                  ("Address", self.street(), "ADDRESS"), ("City", self.city(), "LOCATION"),
                  ("State", self.state(), "LOCATION"), ("ZIP", self.zip(), "POSTAL_CODE"),
                  ("Date of birth", self.date(), "DATE_TIME"), ("Age", self.age(), "AGE"),
                  ("Employer", self.organization(), "ORGANIZATION"),
                  ("Emergency contact", self.person("full"), "PERSON"),
                  ("Country", self.country(), "LOCATION"), ("Website", self.url(), "URL"),
                  ("Plan", self.rng.choice(NOT_PII), None), ("Status", "Active", None)]
        chosen = [fields[0]] + self.rng.sample(fields[1:], self.rng.randint(2, 6))
        separator = self.rng.choice([": ", ": ", " - ", "\t", " = "])
        joiner = self.rng.choice(["\n", "\n", "; ", " | "])
        for index, (key, value, label) in enumerate(chosen):
            if index:
                piece.add(joiner)
            piece.add(self.rng.choice([key, key.upper(), key.lower()]) + separator)
            piece.add(value, label)

    def text_list(self, piece):
        self.fill(piece, self.rng.choice([
            "Attendees: ", "The winners are ", "Our team: ", "Invited: ", "cc: ",
            "Signed by ", "Authors: ", "On call this week: ", "Please thank "]))
        count = self.rng.randint(2, 5)
        for index in range(count):
            if index:
                piece.add(" and " if index == count - 1 and self.rng.random() < 0.5 else ", ")
            piece.add(self.person(self.rng.choice(["full", "full", "last", "first", "initial"])),
                      "PERSON")
        piece.add(self.rng.choice([".", "", " attended.", " (in that order)."]))

    def text_signature(self, piece):
        name = self.person(self.rng.choice(["full", "middle", "initial"]))
        piece.add(self.rng.choice(["-- \n", "> ", "", "---\n"]))
        piece.add(name, "PERSON")
        if self.rng.random() < 0.7:
            piece.add(self.rng.choice(["\n", ", "]) + self.rng.choice(
                ["Senior Engineer", "Account Manager", "Head of Sales", "Paralegal",
                 "Registered Nurse", "CEO", "Director of Operations"]))
        piece.add("\n")
        piece.add(self.organization(), "ORGANIZATION")
        piece.add("\n")
        piece.add(self.street(), "ADDRESS")
        piece.add(", ")
        piece.add(self.city(), "LOCATION")
        piece.add(", ")
        piece.add(self.fakers["en_US"].state_abbr(), "LOCATION")
        piece.add(" ")
        piece.add(self.zip(), "POSTAL_CODE")
        piece.add("\n" + self.rng.choice(["Tel: ", "Phone ", "M: ", "", "Mobile: "]))
        piece.add(self.phone(), "PHONE_NUMBER")
        if self.rng.random() < 0.6:
            piece.add("\n")
            piece.add(self.email(name), "EMAIL_ADDRESS")

    def text_record(self, piece):
        self.fill(piece, self.rng.choice(RECORDS))


SENTENCES = [
    "My name is {NAME} and I live at {STREET}, {CITY}.",
    "Please forward the {NOUN} to {NAME} at {EMAIL}.",
    "{NAME} called on {DATE} about the {NOUN}.",
    "I spoke with {TITLE} {LAST} yesterday; she will call back at {PHONE}.",
    "Can you ask {FIRST} whether the {NOUN} went out?",
    "{FULL}, {AGE}, was admitted on {DATE}.",
    "The {NOUN} was signed by {NAME} on behalf of {ORG}.",
    "Send everything to {STREET}, {CITY}, {STATE} {ZIP}.",
    "We moved from {CITY} to {COUNTRY} when I was {AGE}.",
    "Have you ever met {NAME}?",
    "Thanks to {FIRST} and {FIRST} for the help with {NOTPII}!",
    "According to {NAME}, the {NOUN} is late again.",
    "{LAST} said the {NOUN} would be ready by {DATE}.",
    "Is {NAME} still working at {ORG}?",
    "Reach me on {PHONE} or {EMAIL} any time.",
    "The package for {NAME} never arrived at {STREET}.",
    "I was born in {CITY}, {STATE} on {DATE}.",
    "{TITLE} {NAME} will see you on {DATE}.",
    "Did {FIRST} tell you about {LAST}'s new job?",
    "Our landlord, {NAME}, lives in {CITY} now.",
    "I think {FIRST} is {AGE} years old.",
    "{NAME} ({AGE}) from {CITY} won the raffle.",
    "The account belongs to {NAME}, {EMAIL}.",
    "Meeting with {NAME} of {ORG} moved to {DATE}.",
    "{FIRST}'s number is {PHONE}.",
    "Ask for {TITLE} {LAST} at the front desk.",
    "Her daughter {FIRST} goes to school in {CITY}.",
    "The contract between {ORG} and {NAME} ends on {DATE}.",
    "Visit {URL} or write to {EMAIL}.",
    "I'm {FIRST}, {AGE}, from {COUNTRY}.",
    "{NAME} and {NAME} were married in {CITY} on {DATE}.",
    "The {NOUN} was returned to sender at {STREET}, {CITY} {ZIP}.",
    "we should invite {FIRST} and {FIRST} to the {NOUN} review",
    "Who is {NAME}?",
    "{NAME} is the new manager at {ORG} in {CITY}.",
    "Witness: {NAME}, residing at {STREET}.",
    "The claimant, {NAME}, aged {AGE}, stated that the vehicle was parked outside.",
    "Tell {FIRST} I said hi!",
    "{NAME} has been a member since {DATE}.",
    "Shipping to {NAME}, {STREET}, {CITY}, {COUNTRY}.",
    "Payment received from {NAME} on {DATE}, thank you.",
    "After {DATE}, please contact {NAME} instead of me.",
    "I need to reschedule with {TITLE} {LAST} for {DATE}.",
    "The report written by {NAME} mentions {ORG} twice.",
    "Call {NAME} at {PHONE} if the alarm goes off.",
    "Congratulations to {NAME} on twenty years at {ORG}!",
    "My mother {NAME} turned {AGE} last week.",
    "{FIRST} {LAST}'s flight lands in {CITY} at noon.",
    "Is this the right email for {FIRST}: {EMAIL}?",
    "The tenant at {STREET} is {NAME}.",
]

CHAT_LINES = [
    "did you see the {NOUN}?", "ok {OTHER}, I'll call you at {PHONE}",
    "can you send it to {EMAIL}", "see you in {CITY} on {DATE}", "lol yes",
    "{OTHER} are you there?", "ask {NAME}, she knows", "I'm at {STREET} now",
    "thanks!!", "meeting moved to {DATE}", "it's on {NOTPII}", "sure, ping {FIRST} too",
    "who is {NAME}?", "my new number is {PHONE}",
]

NEGATIVES = [
    "The {NOUN} is due on {NOTPII}.",
    "Please update {NOTPII} before the {NOUN} goes out.",
    "All {NOUN}s are reviewed by {NOTPII}.",
    "Open {NOTPII} and click Save.",
    "Thank you for your {NOUN}!",
    "The Wi-Fi password is on the fridge.",
    "See {NOTPII} for the details of the {NOUN}.",
    "Our office is closed on {NOTPII}.",
    "Your {NOUN} has been approved.",
    "The Apollo program and the Marshall Plan are covered in chapter two.",
    "Reset your password from the Settings page.",
    "Order #4471 shipped on {NOTPII}.",
]

COMPANY_SENTENCES = [
    "{ORG} announced record profits.",
    "I have worked at {ORG} since {DATE}.",
    "The invoice from {ORG} is attached.",
    "{NAME} left {ORG} to join {ORG}.",
    "{ORG} and {ORG} signed the merger on {DATE}.",
    "Customer service at {ORG} was unhelpful.",
    "Our supplier, {ORG}, is based in {CITY}.",
    "The lawsuit against {ORG} was filed in {STATE}.",
    "{ORG} hired {NAME} as its new director.",
]

RECORDS = [
    "Patient {NAME}, {AGE}-year-old, seen at {ORG} on {DATE}. Contact: {PHONE}.",
    "Employee: {NAME}\nStart date: {DATE}\nManager: {NAME}\nOffice: {CITY}",
    "Tenant {NAME} (DOB {DATE}) leases {STREET}, {CITY}, {STATE} {ZIP}.",
    "Case notes: {NAME} reported the incident to {TITLE} {LAST} on {DATE}.",
    "Customer {NAME} <{EMAIL}> requested a refund for the {NOUN}.",
    "Driver {NAME}, age {AGE}, of {CITY}, was cited on {DATE}.",
    "Student: {NAME}; guardian: {NAME}; phone {PHONE}.",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--prefix", default="train")
    args = parser.parse_args()
    generator = Generator(args.seed)
    for index in range(args.count):
        piece = generator.text()
        print(json.dumps({"id": f"{args.prefix}-{index}", "lang": "en", "text": piece.text,
                          "spans": piece.spans}, ensure_ascii=False))


if __name__ == "__main__":
    main()
