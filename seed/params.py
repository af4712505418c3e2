"""The simulator's numbers: the reference's 2020 tables and the public priors.

The reference tables (CBSA, November 2020) are facts the calibration must
reproduce; the priors are public figures around 2019-2020, several of them
estimates, so every one is a parameter with a default, not a constant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from schemas.codes import ArrestReason, Category, Priority

#: CBSA files monitored at full scale; `--files` scales every rate by files / this.
FULL_SCALE_FILES: Final = 220_000

#: Table 1: inadmissibility reports prepared in 2020, by ground category.
REPORTS_BY_CATEGORY: Final = MappingProxyType(
    {
        Category.HEALTH: 3,
        Category.HUMAN_RIGHTS: 20,
        Category.FINANCIAL: 17,
        Category.FAMILY_MEMBER: 10,
        Category.CESSATION: 141,
        Category.UNSPECIFIED: 440,
        Category.SECURITY: 121,
        Category.ORGANIZED_CRIME: 155,
        Category.MISREPRESENTATION: 474,
        Category.CRIMINALITY: 1886,
        Category.NON_COMPLIANCE: 18313,
    }
)
#: Table 2: removal orders issued in 2020, by ground category.
ORDERS_BY_CATEGORY: Final = MappingProxyType(
    {
        Category.HEALTH: 1,
        Category.HUMAN_RIGHTS: 8,
        Category.FINANCIAL: 11,
        Category.FAMILY_MEMBER: 8,
        Category.UNSPECIFIED: 30,
        Category.SECURITY: 14,
        Category.ORGANIZED_CRIME: 20,
        Category.CESSATION: 54,
        Category.MISREPRESENTATION: 143,
        Category.CRIMINALITY: 686,
        Category.NON_COMPLIANCE: 17756,
    }
)
#: Table 3: persons arrested and detained under IRPA in 2020, by reason.
ARRESTS_BY_REASON: Final = MappingProxyType(
    {
        ArrestReason.IDENTITY: 51,
        ArrestReason.EXAMINATION: 223,
        ArrestReason.ADMISSIBILITY_HEARING: 291,
        ArrestReason.MD_REVIEW: 638,
        ArrestReason.REMOVAL: 1531,
    }
)
#: Removals by priority, fiscal year 2019/2020 (the latest full year).
REMOVALS_BY_PRIORITY: Final = MappingProxyType(
    {
        Priority.IRREGULAR_FAILED_CLAIMANT: 548,
        Priority.SERIOUS_INADMISSIBILITY: 1026,
        Priority.FAILED_CLAIMANT: 6312,
        Priority.OTHER: 3641,
    }
)
#: Removal working inventory (2020) and its serious-inadmissibility part.
WORKING_INVENTORY: Final = 13_933
SERIOUS_IN_WORKING_INVENTORY: Final = 815

# Which IRPA provisions make up each category, with weights (casesync's estimate).
GROUNDS_BY_CATEGORY: Final = MappingProxyType(
    {
        Category.HEALTH: {"38": 1.0},
        Category.HUMAN_RIGHTS: {
            "35(1)(a)": 0.45, "35(1)(b)": 0.2, "35(1)(c)": 0.1, "35(1)(d)": 0.15, "35(1)(e)": 0.1,
        },
        Category.FINANCIAL: {"39": 1.0},
        Category.FAMILY_MEMBER: {"42": 1.0},
        Category.CESSATION: {"40.1": 1.0},
        Category.UNSPECIFIED: {"multiple": 1.0},
        Category.SECURITY: {"34": 1.0},
        Category.ORGANIZED_CRIME: {"37": 1.0},
        Category.MISREPRESENTATION: {
            "40(1)(a)": 0.8, "40(1)(b)": 0.08, "40(1)(c)": 0.07, "40(1)(d)": 0.05,
        },
        Category.CRIMINALITY: {
            "36(1)(a)": 0.32, "36(1)(b)": 0.06, "36(1)(c)": 0.03,
            "36(2)(a)": 0.45, "36(2)(b)": 0.06, "36(2)(c)": 0.03, "36(2)(d)": 0.05,
        },
        Category.NON_COMPLIANCE: {"41(a)": 0.97, "41(b)": 0.03},
    }
)  # fmt: skip


@dataclass(frozen=True)
class WorldParameters:
    """Priors of the simulated world. Defaults: public figures around 2019-2020."""

    # --- refugee claims (IRB) ---
    #: Share of non-compliance reports written on a new refugee claimant (the
    #: conditional departure order at the claim). Claims follow from the 2020 reports.
    claimant_share_of_non_compliance: float = 0.8
    #: Share of new claimants who crossed irregularly.
    irregular_share: float = 0.2
    rpd_decisions_per_year: float = 42_500
    rpd_outcomes: dict[str, float] = field(
        default_factory=lambda: {"ACC": 0.63, "REJ": 0.25, "ABN": 0.02, "WDO": 0.10}
    )
    rpd_mean_months: float = 21.0
    rad_appeal_share: float = 0.75
    rad_outcomes: dict[str, float] = field(
        default_factory=lambda: {
            "CNF": 0.66, "ASU": 0.14, "ARB": 0.08, "DNP": 0.05, "DWA": 0.04, "DNJ": 0.03,
        }
    )  # fmt: skip
    rad_mean_days: float = 365.0
    federal_court_share: float = 0.35
    leave_granted_share: float = 0.3
    judicial_review_success_share: float = 0.5  # of those granted leave: ~15% overall
    prra_accepted_share: float = 0.03
    # --- Immigration Division and IAD ---
    id_hearing_mean_days: float = 75.0
    iad_appeal_share_of_pr_orders: float = 0.5
    iad_outcomes: dict[str, float] = field(
        default_factory=lambda: {"ALW": 0.35, "STY": 0.32, "DIS": 0.33}
    )
    # --- detention ---
    #: Share of detentions that end within 48 hours (before the first ID review).
    released_within_48h: float = 0.5
    facilities: dict[str, float] = field(
        default_factory=lambda: {"IHC": 0.65, "PROV": 0.21, "OTHER": 0.14}
    )
    # --- enforcement ---
    #: Working-inventory share of a standing inventory; the rest is wanted or monitored.
    wanted_share: float = 0.15
    working_share: float = WORKING_INVENTORY / 220_000
    stayed_share: float = 0.08
    officers_per_thousand_files: float = 0.6
    max_caseload: int = 120
    #: Removals confirmed by an officer in Canada (R240(3)) rather than at a port.
    r240_share: float = 0.15
    #: Share of annual reviews of criminal cases actually recorded (the audit found few).
    review_compliance: float = 0.45
    #: Share of working-inventory files whose officer records no activity for months.
    dormant_share: float = 0.08
    warrants_per_year: float = 4_000
