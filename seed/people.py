"""Synthetic people: Faker names and Canadian addresses, plausible birth dates and languages.

Names are drawn from pools Faker fills once per world (seeded), so a world of
220,000 files costs a few thousand Faker calls, not a million. Nobody here is a
real person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from faker import Faker

if TYPE_CHECKING:
    import random

#: Faker locales whose names fit a country of citizenship (Latin script only);
#: others use the Canadian locales en_CA and fr_CA.
NAME_LOCALES = {
    "MEX": "es_MX", "COL": "es_CO", "VEN": "es", "HTI": "fr_FR", "IND": "en_IN",
    "TUR": "tr_TR", "NGA": "en_US", "USA": "en_US", "BRA": "pt_BR", "FRA": "fr_FR",
    "ROU": "ro_RO", "POL": "pl_PL", "PHL": "en_PH", "GBR": "en_GB", "PAK": "en_IN",
    "BGD": "en_IN", "LKA": "en_IN", "DZA": "fr_FR", "MAR": "fr_FR", "AGO": "pt_BR",
    "COD": "fr_FR", "BDI": "fr_FR", "CAF": "fr_FR", "MLI": "fr_FR",
}  # fmt: skip
CANADIAN_LOCALES = ("en_CA", "fr_CA")
#: Languages spoken (for the IRB interpreter) by country of citizenship.
LANGUAGES = {
    "IND": "Punjabi", "MEX": "Spanish", "IRN": "Farsi", "CHN": "Mandarin", "COL": "Spanish",
    "PAK": "Urdu", "TUR": "Turkish", "NGA": "English", "VEN": "Spanish", "HTI": "Haitian Creole",
    "COD": "French", "USA": "English", "ERI": "Tigrinya", "AFG": "Dari", "SOM": "Somali",
    "IRQ": "Arabic", "SYR": "Arabic", "BGD": "Bengali", "LKA": "Tamil", "GHA": "English",
    "EGY": "Arabic", "UKR": "Ukrainian", "ETH": "Amharic", "YEM": "Arabic", "BDI": "Kirundi",
    "CAF": "Sango", "LBY": "Arabic", "MLI": "Bambara", "PSE": "Arabic", "SSD": "English",
    "SDN": "Arabic", "AGO": "Portuguese", "PHL": "Tagalog", "VNM": "Vietnamese",
    "GBR": "English", "FRA": "French", "BRA": "Portuguese", "KOR": "Korean", "JAM": "English",
    "ROU": "Romanian", "GUY": "English", "TTO": "English", "DZA": "Arabic", "MAR": "Arabic",
    "POL": "Polish",
}  # fmt: skip
_POOL = 300
_ADDRESSES = 4000
PROVINCE_WEIGHTS = {"ON": 0.52, "QC": 0.28, "BC": 0.1, "AB": 0.06, "MB": 0.02, "NS": 0.02}


@dataclass(frozen=True, slots=True)
class Address:
    line: str
    city: str
    province: str
    postal_code: str


#: Address pools by seed, built once per process (Faker is slow; the pools never change).
_ADDRESS_POOLS: dict[int, dict[str, list[Address]]] = {}


class PeoplePool:
    """Seeded pools of names and addresses to draw people from."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._names: dict[str, tuple[list[str], list[str], list[str]]] = {}
        # The same seed always draws the same pools: a process that simulates many
        # days (a DAG run, the tests) builds them once.
        cached = _ADDRESS_POOLS.get(seed)
        if cached is None:
            cached = {
                province: self._address_pool(province, index)
                for index, province in enumerate(PROVINCE_WEIGHTS)
            }
            _ADDRESS_POOLS[seed] = cached
        self.addresses: dict[str, list[Address]] = cached

    def _faker(self, locale: str, salt: int) -> Faker:
        faker = Faker(locale)
        faker.seed_instance(self._seed * 1_000_003 + salt)
        return faker

    def _address_pool(self, province: str, salt: int) -> list[Address]:
        locale = "fr_CA" if province == "QC" else "en_CA"
        faker = self._faker(locale, 10_000 + salt)
        size = max(50, int(_ADDRESSES * PROVINCE_WEIGHTS[province]))
        pool = []
        for _ in range(size):
            postal = faker.postcode_in_province(province)
            pool.append(Address(faker.street_address(), faker.city(), province, postal))
        return pool

    def _pool(self, country: str) -> tuple[list[str], list[str], list[str]]:
        locale = NAME_LOCALES.get(country)
        key = locale or "CA"
        if key not in self._names:
            salt = sum(map(ord, key))
            if locale:
                fakers = [self._faker(locale, salt)]
            else:
                fakers = [self._faker(loc, salt + i) for i, loc in enumerate(CANADIAN_LOCALES)]
            surnames, female, male = [], [], []
            for i in range(_POOL):
                faker = fakers[i % len(fakers)]
                surnames.append(faker.last_name())
                female.append(faker.first_name_female())
                male.append(faker.first_name_male())
            self._names[key] = (surnames, female, male)
        return self._names[key]

    def name(self, rng: random.Random, country: str, sex: str) -> tuple[str, str]:
        """(surname, given name) for a person of this citizenship and sex."""
        surnames, female, male = self._pool(country)
        given = female if sex == "F" else male
        return rng.choice(surnames), rng.choice(given)

    def address(self, rng: random.Random, province: str) -> Address:
        pool = self.addresses[province]
        return rng.choice(pool)


def birth_date(rng: random.Random, on: dt.date, minor: bool = False) -> dt.date:
    """A plausible birth date: adults 18-70 (mostly 20-45), minors 8-17."""
    years = rng.uniform(8, 17.9) if minor else min(70.0, max(18.2, rng.gammavariate(9.0, 3.8)))
    return on - dt.timedelta(days=int(years * 365.25))


def language(country: str) -> str:
    return LANGUAGES.get(country, "English")
