#!/usr/bin/env python3
"""Regenerates detection/gazetteers/ (evidence for detection) and anonymization/surrogates/ (material
for fake values) from the Faker package's locale data (MIT license).

Usage: pip download faker==40.54.0 --no-deps -d DIR && scripts/gazetteers.py DIR/faker-40.54.0-py3-none-any.whl
"""
import pathlib
import sys
import tempfile
import zipfile

wheel = sys.argv[1]
root = pathlib.Path(__file__).resolve().parent.parent
out = root / "detection" / "gazetteers"
with tempfile.TemporaryDirectory() as directory:
    zipfile.ZipFile(wheel).extractall(directory)
    sys.path.insert(0, directory)
    import faker.providers.address.en_US as address_en
    import faker.providers.address.es_ES as address_es
    import faker.providers.person.en_US as person_en
    import faker.providers.person.es_ES as person_es

    def names(values):
        return sorted({str(value).strip() for value in (values.keys() if isinstance(values, dict) else values) if str(value).strip()})

    lists = {
        "first_names.txt": names(person_es.Provider.first_names_male) + names(person_es.Provider.first_names_female)
        + names(person_en.Provider.first_names_male) + names(person_en.Provider.first_names_female),
        "surnames.txt": names(person_es.Provider.last_names) + names(person_en.Provider.last_names),
        "places.txt": names(address_es.Provider.states) + names(address_es.Provider.regions) + names(address_es.Provider.countries)
        + names(address_en.Provider.states) + names(address_en.Provider.countries),
    }
    for name, values in lists.items():
        unique = sorted(set(values))
        (out / name).write_text("\n".join(unique) + "\n", encoding="utf-8")
        print(f"{name}: {len(unique)}")
    surrogates = root / "anonymization" / "surrogates"
    surrogates.mkdir(exist_ok=True)
    surrogate_lists = {
        "es_male.txt": names(person_es.Provider.first_names_male),
        "es_female.txt": names(person_es.Provider.first_names_female),
        "en_male.txt": names(person_en.Provider.first_names_male),
        "en_female.txt": names(person_en.Provider.first_names_female),
        "es_surnames.txt": names(person_es.Provider.last_names),
        "en_surnames.txt": names(person_en.Provider.last_names),
        "es_provinces.txt": names(address_es.Provider.states),
        "en_states.txt": names(address_en.Provider.states),
        "es_street_prefixes.txt": names(p for p in address_es.Provider.street_prefixes if not p.endswith(".")),
        "en_street_suffixes.txt": names(address_en.Provider.street_suffixes),
        "es_countries.txt": names(address_es.Provider.countries),
        "en_countries.txt": names(address_en.Provider.countries),
    }
    for name, values in surrogate_lists.items():
        unique = sorted(set(values))
        (surrogates / name).write_text("\n".join(unique) + "\n", encoding="utf-8")
        print(f"surrogates/{name}: {len(unique)}")
    license_dir = next(pathlib.Path(directory).glob("faker-*.dist-info/licenses"))
    for directory_out in (out, surrogates):
        (directory_out / "LICENSE-faker.txt").write_text((license_dir / "LICENSE.txt").read_text(encoding="utf-8"), encoding="utf-8")
