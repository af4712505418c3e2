"""Run the rules with Great Expectations (GX Core 1.x), as SQL on the databases.

Column rules on the same rows become one expectation suite validated against
a query asset (the table's rows in scope: hand-typed, changed in the night);
every failing record comes back through `unexpected_index_column_names`.
Query rules become UnexpectedRowsExpectations. GX caps the unexpected rows it
returns at 200; `ExpectNoUnexpectedRows` fetches them all (it relies on GX's
query-table metric helpers: re-check on a GX upgrade). GX builds its own
engine from each connector's URL.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections import defaultdict
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import literal_column, select

from expectations.findings import RuleOutcome
from expectations.rules import InOrder, InSet, Matches, NotNull, Query, Rule, Scope
from expectations.sql import in_scope, query
from schemas import metadata_for

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from connectors import Connectors

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
#: GX logs hundreds of INFO lines at import; only warnings are worth an operator's time.
for _name in ("great_expectations", "great_expectations.data_context.types.base"):
    logging.getLogger(_name).setLevel(logging.WARNING)

warnings.filterwarnings("ignore", message="You are using a generic SQLDatasource")

#: Every unexpected record, whatever the count (GX uses it as a LIMIT).
_ALL = 100_000_000


def _render(conn_dialect: Any, statement: Any) -> str:
    """A rule's query as SQL text for GX, which runs it through `sa.text()`.

    `sa.text()` escapes a literal % for a pyformat driver (psycopg) itself: the
    compiler's own escaping is undone here, or the driver would see it twice.
    """
    sql = str(statement.compile(dialect=conn_dialect, compile_kwargs={"literal_binds": True}))
    if conn_dialect.paramstyle in ("pyformat", "format"):
        sql = sql.replace("%%", "%")
    return sql


def _expectation_classes() -> tuple[Any, Any]:
    """GX's expectation module, and the all-rows variant of UnexpectedRowsExpectation."""
    import great_expectations.expectations as gxe
    from great_expectations.core.metric_domain_types import MetricDomainTypes
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine
    from great_expectations.expectations.metrics.metric_provider import metric_value
    from great_expectations.expectations.metrics.query_metrics.query_table.query_table import (
        QueryTable,
    )

    if "ExpectNoUnexpectedRows" in globals():
        return gxe, globals()["ExpectNoUnexpectedRows"]

    class UnexpectedRowsQueryTableAll(QueryTable):
        """The rows of an unexpected-rows query, all of them."""

        metric_name = "unexpected_rows_query.table_all"
        value_keys = ("unexpected_rows_query",)
        query_param_name: ClassVar[str] = "unexpected_rows_query"

        @metric_value(engine=SqlAlchemyExecutionEngine)
        def _sqlalchemy(
            cls,
            execution_engine: Any,
            metric_domain_kwargs: Any,
            metric_value_kwargs: Any,
            metrics: Any,
            runtime_configuration: Any,
        ) -> Any:
            selectable, _, _ = execution_engine.get_compute_domain(
                metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
            )
            sql = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
                query=cls._get_query_from_metric_value_kwargs(metric_value_kwargs),
                batch_selectable=selectable,
                execution_engine=execution_engine,
            )
            return cls._get_sqlalchemy_records_from_substituted_batch_subquery(
                substituted_batch_subquery=sql, execution_engine=execution_engine, fetch_all=True
            )

    class ExpectNoUnexpectedRows(gxe.UnexpectedRowsExpectation):
        """UnexpectedRowsExpectation whose complete result lists every unexpected row.

        The count is that of the rows fetched: GX's own row-count metric would
        run the rule's query a second time.
        """

        metric_dependencies = ("unexpected_rows_query.table_all",)

        def _validate(
            self, metrics: Any, runtime_configuration: Any = None, execution_engine: Any = None
        ) -> Any:
            metrics = dict(metrics)
            rows = metrics.pop("unexpected_rows_query.table_all")
            metrics["unexpected_rows_query.table"] = rows
            metrics["unexpected_rows_query.row_count"] = len(rows)
            return super()._validate(metrics, runtime_configuration, execution_engine)

    globals()["ExpectNoUnexpectedRows"] = ExpectNoUnexpectedRows
    return gxe, ExpectNoUnexpectedRows


def make_context(docs_dir: Path) -> Any:
    """An in-memory GX context whose Data Docs site is written to `docs_dir`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={
            "casesync": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _expectation(gxe: Any, rule: Rule) -> Any:
    check = rule.check
    if isinstance(check, NotNull):
        return gxe.ExpectColumnValuesToNotBeNull(column=check.column)
    if isinstance(check, Matches):
        return gxe.ExpectColumnValuesToMatchRegex(column=check.column, regex=check.pattern)
    if isinstance(check, InSet):
        return gxe.ExpectColumnValuesToBeInSet(column=check.column, value_set=list(check.values))
    if isinstance(check, InOrder):
        return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=check.later,
            column_B=check.earlier,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
    raise TypeError(f"{rule.name}: not a column check")


def _columns(rule: Rule) -> set[str]:
    check = rule.check
    if isinstance(check, InOrder):
        return {check.earlier, check.later}
    return {rule.column} if rule.column else set()


class GxValidation:
    """One validation run: a context, a datasource per database, suites from the rules."""

    def __init__(self, connectors: Connectors, scope: Scope, docs_dir: Path) -> None:
        import great_expectations as gx

        self.gx = gx
        self.gxe, self.all_rows = _expectation_classes()
        self.connectors = connectors
        self.scope = scope
        docs_dir.mkdir(parents=True, exist_ok=True)
        self.docs_dir = docs_dir
        self.context = make_context(docs_dir)
        self._sources: dict[str, Any] = {}
        self._names = 0

    def _name(self, stem: str) -> str:
        self._names += 1
        return f"{stem}_{self._names}"

    def _source(self, database: str) -> Any:
        if database not in self._sources:
            url = self.connectors[database].url
            self._sources[database] = self.context.data_sources.add_sql(
                name=database, connection_string=url
            )
        return self._sources[database]

    def _run(
        self,
        database: str,
        asset_sql: str,
        suite_name: str,
        expectations: list[tuple[Rule, Any]],
        index: list[str] | None,
    ) -> Any:
        source = self._source(database)
        if asset_sql.startswith("TABLE "):  # a whole table: GX reads it with SQL, never into Python
            asset = source.add_table_asset(name=self._name(suite_name), table_name=asset_sql[6:])
        else:
            asset = source.add_query_asset(name=self._name(suite_name), query=asset_sql)
        batch = asset.add_batch_definition_whole_table("rows")
        for rule, expectation in expectations:
            expectation.meta = {
                "rule": rule.name,
                "description": rule.description,
                "severity": rule.severity.value,
            }
        # The suite is stored once, whole: adding expectations to a stored suite one by
        # one writes the whole suite to the store again for each.
        suite = self.context.suites.add(
            self.gx.ExpectationSuite(
                name=self._name(suite_name), expectations=[e for _, e in expectations]
            )
        )
        definition = self.context.validation_definitions.add(
            self.gx.ValidationDefinition(name=self._name(suite_name), data=batch, suite=suite)
        )
        result_format: dict[str, Any] = {
            "result_format": "COMPLETE",
            "partial_unexpected_count": _ALL,
        }
        if index:
            result_format["unexpected_index_column_names"] = index
        return definition.run(result_format=result_format)

    def _suite(
        self,
        group: list[Rule],
        database: str,
        asset_sql: str,
        name: str,
        expectations: list[tuple[Rule, Any]],
        index: list[str] | None,
        failures: Callable[[Rule, Any], list[tuple[str, str | None, str | None, str | None]]],
    ) -> list[RuleOutcome]:
        """Validate one suite; each rule's outcome: its failing records, or why it could not run."""
        started = time.perf_counter()
        mine = {rule.name: RuleOutcome(rule) for rule in group}
        try:
            result = self._run(database, asset_sql, name, expectations, index)
        except Exception as exc:  # a missing table, a database that is down: these rules only
            for outcome in mine.values():
                outcome.error = _problem(exc)
            return list(mine.values())
        for item in result.results:
            outcome = mine[item.expectation_config.meta["rule"]]
            error = _raised(item.exception_info)
            if error is not None:
                outcome.error = error
            else:
                outcome.failures = failures(outcome.rule, item.result)
        elapsed = (time.perf_counter() - started) / max(1, len(mine))
        for outcome in mine.values():
            outcome.seconds = elapsed
        return list(mine.values())

    def column_rules(self, rules: list[Rule]) -> list[RuleOutcome]:
        """Column rules grouped by the rows they check: one suite per table and condition."""
        groups: dict[tuple[str, str, str | None, bool], list[Rule]] = defaultdict(list)
        for rule in rules:
            groups[(rule.system, rule.table, rule.where, rule.hand_typed)].append(rule)
        outcomes = []
        for (system, table_name, _, _), group in groups.items():
            table = metadata_for(system).tables[table_name]
            key, office = group[0].key, group[0].office
            index = [key] + ([office] if office else [])
            names = sorted({*index, *(c for r in group for c in _columns(r))})
            statement = select(*(table.c[name] for name in names)).where(
                *in_scope(group[0], table, self.scope)
            )
            dialect = self.connectors[system].engine.dialect

            def unexpected(
                rule: Rule, result: Any, key: str = key, office: str | None = office
            ) -> Any:
                rows = result.get("unexpected_index_list") or []
                column = rule.column
                return [
                    (
                        str(row[key]),
                        _text(row.get(column) if column else None),
                        None,
                        row.get(office) if office else None,
                    )
                    for row in rows
                ]

            expectations = [(rule, _expectation(self.gxe, rule)) for rule in group]
            # A query asset is read once whole (GX learns its columns that way): a full
            # validation of a table that holds no feed rows checks the table itself.
            whole = self.scope.kind == "full" and group[0].where is None
            whole = whole and "source_updated_at" not in table.c
            sql = f"TABLE {table_name}" if whole else _render(dialect, statement)
            outcomes += self._suite(
                group, system, sql, f"{system}_{table_name}", expectations, index, unexpected
            )
        return outcomes

    def query_rules(self, rules: list[Rule]) -> list[RuleOutcome]:
        """Query rules as UnexpectedRowsExpectations, one suite per database."""
        by_database: dict[str, list[Rule]] = defaultdict(list)
        for rule in rules:
            by_database[rule.database].append(rule)
        outcomes = []
        for database, group in by_database.items():
            dialect = self.connectors[database].engine.dialect
            expectations = []
            for rule in group:
                # str.format fills {batch}: the rule's own braces (regex quantifiers) are doubled.
                sql = (
                    _render(dialect, query(rule, self.scope)).replace("{", "{{").replace("}", "}}")
                )
                expectation = self.all_rows(
                    unexpected_rows_query=_joined(sql), description=rule.description
                )
                expectations.append((rule, expectation))
            one_row = _render(dialect, select(literal_column("1").label("one")))

            def unexpected(_rule: Rule, result: Any) -> Any:
                rows = result.get("details", {}).get("unexpected_rows", [])
                return [
                    (
                        str(row["key"]),
                        _text(row.get("value")),
                        _text(row.get("related_key")),
                        row.get("office"),
                    )
                    for row in rows
                ]

            outcomes += self._suite(
                group, database, one_row, f"{database}_queries", expectations, None, unexpected
            )
        return outcomes

    def build_docs(self) -> str:
        """Write the Data Docs site, readable offline; the path of its index page."""
        from expectations.datadocs import make_offline

        urls = self.context.build_data_docs()
        make_offline(self.docs_dir)
        return str(next(iter(urls.values())))


def _joined(sql: str) -> str:
    """The rule's rows, joined to the one-row batch GX substitutes for {batch}."""
    return f"SELECT failing.* FROM ({sql}) failing CROSS JOIN {{batch}} one_row"


def _raised(info: Any) -> str | None:
    """The first exception GX caught while computing an expectation (it nests them per metric)."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        message = str(info.get("exception_message") or "failed").strip().splitlines()
        return (message[0] if message else "failed")[:500]
    for value in info.values():
        if isinstance(value, dict) and (found := _raised(value)) is not None:
            return found
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _problem(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0] if lines else ''}"[:500]


def run_gx(
    connectors: Connectors, rules: list[Rule], scope: Scope, docs_dir: Path
) -> tuple[list[RuleOutcome], GxValidation]:
    """Run every rule with GX: the outcomes (in the rules' order), and the run (for Data Docs)."""
    run = GxValidation(connectors, scope, docs_dir)
    column = [r for r in rules if not isinstance(r.check, Query)]
    queried = [r for r in rules if isinstance(r.check, Query)]
    outcomes = {o.rule.name: o for o in run.column_rules(column) + run.query_rules(queried)}
    return [outcomes[rule.name] for rule in rules], run
