"""New people and new s.44 reports: claimants, other foreign nationals, permanent residents.

Reports arrive each day at the reference's 2020 rate; their ground categories
are drawn by quota so the year's shares match Table 1. A non-compliance report
is usually the conditional departure order of a new refugee claimant.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from schemas.codes import (
    CBSA_REGIONS,
    CLAIMANT_COUNTRIES,
    GROUND_BY_CODE,
    IRREGULAR_COUNTRIES,
    OFFICES,
    OTHER_COUNTRIES,
    PERMANENT_RESIDENT_ONLY_GROUNDS,
    Category,
    MinisterDelegateDecision,
    NonCompliance,
    Proceeding,
    Status,
    expected_priority,
    ground_applies,
)
from seed import enforcement, irb, type_gcms, type_ncms, type_nova
from seed.params import GROUNDS_BY_CATEGORY, ORDERS_BY_CATEGORY, REPORTS_BY_CATEGORY
from seed.people import birth_date, language
from seed.quota import QuotaSampler, RateQuota
from seed.world import Case, Person

if TYPE_CHECKING:
    import random

    from seed.context import Day
    from seed.world import World

_OFFICE_CODES = [office.code for office in OFFICES]
_OFFICE_WEIGHTS = [office.weight for office in OFFICES]
_OFFICE_PROVINCE = {
    "GTA": "ON",
    "SOR": "ON",
    "NOR": "ON",
    "QUE": "QC",
    "ATL": "NS",
    "PRA": "AB",
    "PAC": "BC",
}
_PR_SHARE = {
    Category.CRIMINALITY: 0.3,
    Category.MISREPRESENTATION: 0.4,
    Category.ORGANIZED_CRIME: 0.3,
}


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    """One key, drawn in proportion to its weight."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def new_person(
    day: Day, rng: random.Random, *, claimant: bool, status: str = Status.FOREIGN_NATIONAL,
    office: str | None = None, irregular: bool = False, minor: bool = False,
) -> Person:  # fmt: skip
    """A synthetic person with a unique name and birth date, living near `office`."""
    world = day.world
    if irregular:
        country = weighted(rng, dict(IRREGULAR_COUNTRIES))
    elif claimant:
        country = weighted(rng, dict(CLAIMANT_COUNTRIES))
    else:
        country = weighted(rng, dict(OTHER_COUNTRIES))
    sex = "F" if rng.random() < 0.42 else "M"
    province = _OFFICE_PROVINCE[(office or "GTA")[:3]]
    while True:
        surname, given = day.people.name(rng, country, sex)
        born = birth_date(rng, day.date, minor=minor)
        identity = (surname, given, born, country)
        if identity not in world.identities:
            world.identities.add(identity)
            break
    address = day.people.address(rng, province)
    person_id = world.numbering.next("person")
    person = Person(
        person_id=person_id,
        uci=world.numbering.uci(day.date.year),
        surname=surname,
        given_name=given,
        birth_on=born,
        sex=sex,
        citizenship=country,
        language=language(country),
        status=status,
        province=province,
        address=(address.line, address.city, address.province, address.postal_code),
        irregular=irregular,
        vulnerable=minor,
    )
    world.persons[person_id] = person
    return person


def pick_office(rng: random.Random) -> str:
    return rng.choices(_OFFICE_CODES, weights=_OFFICE_WEIGHTS)[0]


def irb_region(office: str) -> str:
    return CBSA_REGIONS[office[:3]][1]


def samplers(world: World) -> dict[str, object]:
    """The quota samplers that keep the year's shares on the reference tables."""
    if not world.samplers:
        world.samplers["report_category"] = QuotaSampler(dict(REPORTS_BY_CATEGORY))
        for category, reports in REPORTS_BY_CATEGORY.items():
            rate = ORDERS_BY_CATEGORY[category] / reports
            world.samplers[f"convert:{category}"] = RateQuota(rate)
    return world.samplers


def conversion(day: Day, category: Category, *, claimant: bool) -> bool:
    """Does this concluded report end in a removal order? (quota per category).

    Claimants always get their conditional order; the other non-compliance
    reports convert at the rate that keeps the category on Table 2.
    """
    if claimant:
        return True
    sampler = samplers(day.world)[f"convert:{category}"]
    assert isinstance(sampler, RateQuota)
    if category is Category.NON_COMPLIANCE:
        share = day.params.claimant_share_of_non_compliance
        overall = ORDERS_BY_CATEGORY[category] / REPORTS_BY_CATEGORY[category]
        sampler.rate = max(0.0, (overall - share) / (1 - share))
    return sampler.decide()


def daily_reports(day: Day) -> None:
    """Today's s.44 reports (Table 1 rates, scaled), each on a person and a new case."""
    rng = day.rng("reports")
    expected = sum(REPORTS_BY_CATEGORY.values()) * day.scale / 365.0
    sampler = samplers(day.world)["report_category"]
    assert isinstance(sampler, QuotaSampler)
    for _ in range(poisson(rng, expected)):
        category = sampler.draw()
        day.world.count("reports", category.value)
        ground = weighted(rng, GROUNDS_BY_CATEGORY[category])
        claim = category is Category.NON_COMPLIANCE and ground == "41(a)"
        if claim and rng.random() < day.params.claimant_share_of_non_compliance:
            irb.new_claim(day, rng)
            continue
        report_on_person(day, rng, category, ground)


def report_on_person(
    day: Day, rng: random.Random, category: Category, ground: str, *, resident: bool = False
) -> Case:
    """A report on someone who is not a new claimant (a known client, or a newcomer)."""
    status = Status.PERMANENT_RESIDENT if resident else Status.FOREIGN_NATIONAL
    # s.36(2), 38, 39, 41(a) and 42 never reach a permanent resident; 41(b) only does.
    if ground in PERMANENT_RESIDENT_ONLY_GROUNDS or (
        rng.random() < _PR_SHARE.get(category, 0.0)
        and ground_applies(ground, Status.PERMANENT_RESIDENT)
    ):
        status = Status.PERMANENT_RESIDENT
    if ground in ("40.1", "40(1)(c)"):
        status = Status.PROTECTED_PERSON
    office = pick_office(rng)
    person = day.world.take_known_client(rng) if rng.random() < 0.5 else None
    new_client = person is None
    if person is None:
        person = new_person(day, rng, claimant=False, status=status, office=office)
    elif person.status != status:
        # IRCC brings the client's status up to date before the report is written,
        # so every later record (the order's copy of it too) agrees with GCMS.
        person.status = status
        day.ledger.amend(
            "gcms", "client", person.uci, {"immigration_status": status.value},
            at=day.moment(rng) - dt.timedelta(minutes=1),
        )  # fmt: skip
    kind = None
    if ground == "41(a)":
        kind = rng.choices(
            [
                NonCompliance.OVERSTAY,
                NonCompliance.OTHER,
                NonCompliance.NO_SHOW,
                NonCompliance.NO_ARC,
            ],
            weights=[0.5, 0.3, 0.15, 0.05],
        )[0].value
    principal = _principal(day, rng) if ground == "42" else None
    case = open_case(day, rng, person, ground, kind, office, new_client=new_client)
    if principal is not None:  # s.42: the family member of someone under a removal order
        case.family_order_type = principal.order_type
        if principal.order_id is not None:
            day.world.principal_orders[case.case_no] = principal.order_id
    day.world.pool_add("md_pending", case.case_no)
    day.world.agenda.add(day.later(rng.randint(0, 14)), "md_review", case.case_no, category.value)
    return case


def _principal(day: Day, rng: random.Random) -> Case:
    """The family member whose removal order makes this person inadmissible (s.42)."""
    case_no = day.world.pool_pick("with_order", rng)
    if case_no is None:
        raise RuntimeError("a s.42 report needs a family member under a removal order")
    return day.world.cases[case_no]


def open_case(
    day: Day, rng: random.Random, person: Person, ground: str, kind: str | None, office: str,
    *, new_client: bool, claimant: bool = False,
) -> Case:  # fmt: skip
    """Type the report into GCMS and open the NCMS case."""
    world = day.world
    if new_client:
        type_gcms.client(day, person, rng)
    region = office[:3]
    case = Case(
        case_no=world.numbering.ncms_case(region, day.date.year),
        person_id=person.person_id,
        office=office,
        officer=None,  # assigned when the case reaches the working inventory
        opened_on=day.date,
        ground=ground,
        non_compliance=kind,
        report_id=world.numbering.next("gcms:report", 2_000_000),
        is_claimant=claimant,
        serious=GROUND_BY_CODE[ground].serious,
    )
    case.priority = expected_priority(
        ground, failed_claimant=False, irregular_migrant=person.irregular
    )
    world.cases[case.case_no] = case
    world.case_of_person[person.person_id] = case.case_no
    type_gcms.report(day, case, person, rng, new_client=new_client)
    type_ncms.removal_case(day, case, person, rng)
    return case


def md_review(day: Day, case_no: str, category: str) -> None:
    """The Minister's Delegate reviews a report: issue the order, refer it, or take no action."""
    world = day.world
    case = world.cases[case_no]
    world.pool_remove("md_pending", case_no)
    if case.status != "OPEN":
        return
    rng = day.rng("md_review")
    person = world.person_of(case)
    authority, _ = enforcement.chart_for(world, case, person)
    if authority == "ID":
        region = irb_region(case.office)
        file_number = type_nova.case_file(
            day, person, Proceeding.ADMISSIBILITY, region, day.date, rng
        )
        case.id_file = file_number
        type_gcms.md_review(
            day, case, MinisterDelegateDecision.REFERRED_TO_ID, rng, referral=file_number
        )
        world.pool_add("id_pending", case_no)
        hearing_on = day.later(
            max(14, int(rng.gammavariate(4.0, day.params.id_hearing_mean_days / 4)))
        )
        world.agenda.add(hearing_on, "id_hearing", case_no, category)
        return
    if conversion(day, Category(category), claimant=case.is_claimant):
        type_gcms.md_review(day, case, MinisterDelegateDecision.ORDER_ISSUED, rng)
        enforcement.make_order(day, case, rng, authority="MD")
    else:
        type_gcms.md_review(day, case, MinisterDelegateDecision.NO_ACTION, rng)
        enforcement.close_case(day, case, rng, reason="no action on report")


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method for small means, normal approximation above 50)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, mean**0.5)))
    limit = pow(2.718281828459045, -mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def later_day(day: dt.date, days: int) -> dt.date:
    return day + dt.timedelta(days=days)
