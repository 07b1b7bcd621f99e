"""The benchmarks still run: each at a tiny size (the figures at this size mean nothing and are not checked; that
every step ran and answered is). Speed itself is measured by running them in full (bench/RESULTS*.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_bench(module: str, *args: str) -> dict[str, Any]:
    """Run `python -m bench.<module>` on the suite's database server; its JSON (the output from the first line that
    opens an object)."""
    env = {**os.environ, "FUNDTRACK_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", f"bench.{module}", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("{") and not line.startswith('{"loaded"'))
    return dict(json.loads("\n".join(lines[start:])))


def test_the_registry_import_bench_runs() -> None:
    results = run_bench("registry_import", "--lines", "3000")
    assert results["raw_copy"]["rows"] == results["raw_copy_roster_shaped_with_primary_key"]["rows"] == 3000
    assert results["import_via_gateway"]["imported"] == 3000
    assert results["import_direct_to_service"]["imported"] == 3000
    assert results["reimport_unchanged_via_gateway"]["unchanged"] == 3000
    assert results["import_via_gateway"]["registry_peak_rss_mib"] > 0


def test_the_loans_detectors_bench_runs() -> None:
    results = run_bench("loans_detectors", "--loans", "3000")
    first, second = results["scan"]["first"], results["scan"]["second"]
    assert first["raise_alerts"]["raised"] > 0 and second["raise_alerts"]["raised"] == 0
    assert first["INELIGIBLE_BORROWER"]["alerts"] == second["INELIGIBLE_BORROWER"]["alerts"] > 0
    assert results["scan"]["registry_calls"] >= 1


def test_the_province_funds_bench_runs() -> None:
    results = run_bench("province_funds", "--scale", "0.001", "--repeat", "1", "--registry-ms", "0",
                        "--gateway-repeat", "2")
    assert results["progress province 430000"]["counties"] == 126 and results["progress city 430100"]["counties"] == 9
    trace = results["trace allocation alp0_0_2024, every page"]
    assert trace["pages"] >= 1 and trace["hops"] > 0
    scan = results["detectors"]
    assert scan["DUPLICATE_PAYMENT"]["alerts"] > 0 and scan["IDLE_FUNDS"]["alerts"] > 0
    assert scan["INELIGIBLE_PAYEE"]["alerts"] == 0 and scan["registry_calls"] >= 1
    assert all("failed" not in figures for figures in scan.values() if isinstance(figures, dict))
    # INELIGIBLE_PAYEE's next run reads only what was recorded since its first: it asks about nothing
    incremental = results["ineligible_payee_incremental"]
    assert incremental["first run (full), its mark kept"]["eligibility_calls"] >= 1
    assert incremental["next run, nothing new (incremental)"]["eligibility_calls"] == 0
    [next_day] = [v for k, v in incremental.items() if k.startswith("next day's run")]
    assert next_day["eligibility_calls"] >= 1 and "failed" not in next_day
    # DUPLICATE_PAYMENT's too: nothing new, nothing found; the next night's copies (none at this scale) each repeat
    # the payment it copies
    duplicates = results["duplicate_payment_incremental"]
    first, nothing = duplicates["first run (full), its mark kept"], duplicates["next run, nothing new (incremental)"]
    assert first["alerts"] == scan["DUPLICATE_PAYMENT"]["alerts"] and nothing["alerts"] == 0
    assert nothing["rows_read"]["disbursements"] < first["rows_read"]["disbursements"]
    [next_day] = [v for k, v in duplicates.items() if k.startswith("next day's run")]
    assert next_day["alerts"] >= next_day["payments_recorded"] and "failed" not in next_day
    # every documented funds GET, through the gateway by a key of its jurisdiction: each answered as it should
    routes = {row["path"] for row in results["gateway"]}
    assert {"/funds/allocations?limit=50", "/funds/reports/progress?region=430000&as_of=2026-11-30",
            "/funds/trace?allocation_id=alp0_0_2024", "/funds/reports/input?region=430000&year=2026"} <= routes
    assert all(row["status"] == row["expected_status"] for row in results["gateway"]), results["gateway"]
    assert sum(row["expected_status"] == 200 for row in results["gateway"]) >= 25
    assert any(row["page"] > 1 for row in results["gateway"])  # a later page, by the cursor


def test_the_province_loans_bench_runs() -> None:
    results = run_bench("province_loans", "--scale", "0.002", "--repeat", "2", "--gateway-repeat", "2")
    reads, days = results["reads"], results["detectors"]
    for name in ("county", "city", "province"):
        report = reads[f"overdue_report_{name}"]
        assert report["overdue_loans"] == report["raw_overdue_loans"], name  # the route's answer is the raw SQL's
    assert reads["household_list_last_county"]["rows"] > 0
    first, second = (days[day] for day in sorted(d for d in days if d[:2] == "20"))
    assert first["raise_alerts"]["raised"] > 0
    # the next day's run rewrites only the alerts whose facts changed (none of the overdue ones stay 1-30 → 31-90)
    assert second["raise_alerts"]["updated"] < first["LOAN_OVERDUE"]["alerts"]
    # every documented loans and registry GET, through the gateway by a key of its jurisdiction: each answered as it
    # should, the in-process figure beside those timed in-process
    gateway = results["gateway"]
    assert all(row["status"] == row["expected_status"] for row in gateway), gateway
    routes = {row["path"].split("?")[0] for row in gateway}
    assert {"/loans", "/loans/reports/overdue", "/loans/reports/outstanding", "/loans/reports/subsidy",
            "/registry/households", "/registry/cadre-exceptions"} <= routes
    assert sum(row["expected_status"] == 200 for row in gateway) >= 25
    assert any(row["page"] > 1 for row in gateway)  # a later page, by the cursor
    assert sum(bool(row["in_process_ms"]) for row in gateway) == 7


def test_the_mixed_load_bench_runs() -> None:
    """bench/mixed_load.py for 10 s (its exit status is 0 only with no error and no process's memory over its
    bound): every service and the gateway's own routes are in the mix, reads and writes, the repeats apart."""
    results = run_bench("mixed_load", "--seconds", "10", "--households", "200", "--baseline-seconds", "2")
    assert results["errors"] == 0 and results["requests"] > 100
    routes = {name for name, route in results["routes"].items() if route["count"]}
    for prefix in ("GET /funds/", "POST /funds/", "GET /projects", "POST /projects", "GET /registry/",
                   "POST /registry/", "GET /loans", "POST /loans", "GET /alerts", "GET /audit"):
        assert any(name.startswith(prefix) for name in routes), prefix
    assert 0.1 < results["write_share"] < 0.3
    assert all(route["p99_ms"] >= route["p50_ms"] > 0 for route in results["routes"].values() if route["count"])
    assert {"gateway", "funds", "projects", "loans", "registry"} <= set(results["memory"][-1]["rss_mib"])
    assert len(results["memory"]) >= 3 and results["rss_over_bound"] == {}
    assert results["expected_refusals"] + results["replays"] > 0  # repeats with a key, counted apart
    assert results["raw_postgresql"]["queries"] > 0


def test_the_remote_calls_bench_runs() -> None:
    results = run_bench("remote_calls", "--projects", "1200", "--regions", "6", "--repeat", "1")
    lookup, bureaus = results["lookup"], results["bureaus"]
    assert [f["found"] for f in lookup.values()] == [1200, 1200, 1200]
    assert [f["calls_per_run"] for f in lookup.values()] == [1200, 2, 0]
    assert [(f["found"], f["calls_per_run"]) for f in bureaus.values()] == [(3, 6), (3, 1)]


def test_the_console_pages_bench_runs() -> None:
    results = run_bench("console_pages", "--scale", "0.001", "--repeat", "2")
    assert len(results["pages"]) >= 8
    for row in results["pages"]:
        assert row["page_status"] == 200 and row["api_status"] == 200, row


def test_the_funds_county_keys_bench_runs() -> None:
    results = run_bench("funds_county_keys", "--projects", "30", "--arrangements", "100", "--payments", "2000",
                        "--payments-per-reversal", "10")
    assert results["rows"] == {"arrangements": 100, "disbursements": 2000, "reversals": 228, "project_ledgers": 30}
    # the writer's reversals too, each in the region answering for its record
    assert results["reversals"] == results["reversals_in_their_records_region"] >= 228
    # the writer of the version before recorded meanwhile, and was refused only for what the revision's end takes
    # from it (the county the filling trigger gave, the ledger's old key), never a lock wait or a deadlock
    writes = results["writer_during_upgrade"]
    assert writes["recorded"] > 0
    expected = ("county_code", "ON CONFLICT")
    assert all(any(e in what for e in expected) for what in writes["failures"]), writes["failures"]


def test_the_loans_county_keys_bench_runs() -> None:
    results = run_bench("loans_county_keys", "--scale", "0.002")
    assert (results["loans"], results["loan_repayments"]) == (1600, 6400)
    assert results["rows_not_of_their_loans_county"] == {
        "loan_repayments": 0, "loan_extensions": 0, "loan_usage_reports": 0, "loan_balances": 0}
    # the writer of the version before recorded meanwhile, and was refused only for the county it does not write
    writes = results["writer_during_upgrade"]
    assert writes["recorded"] > 0 and len(writes["first_failures"]) == min(writes["failures"], 2)
    assert all("county_code" in what for _, what in writes["first_failures"]), writes["first_failures"]


def test_the_projects_county_keys_bench_runs() -> None:
    results = run_bench("projects_county_keys", "--projects", "300", "--events", "3")
    assert (results["rows"]["projects"], results["rows"]["project_events"], results["rows"]["objections"]) == (
        300, 900, 150)
    assert list(results["upgrade_s"]) == ["projects_0009_county_keys_events", "projects_0010_keys_objections",
                                          "projects_0011_keys_assets"]
    assert results["rows_without_county"] == 0


def test_the_registry_county_keys_bench_runs() -> None:
    results = run_bench("registry_county_keys", "--households", "3000", "--history", "2")
    assert results["rows"] == {"households": 3000, "household_status_history": 6000}
    assert results["writer"]["written"] > 0  # the version before recorded while the revision ran
    assert results["history_without_county"] == results["history_of_another_county"] == 0


def test_the_registry_household_ids_bench_runs() -> None:
    results = run_bench("registry_household_ids", "--households", "3000")
    assert results["rows"] == {"households": 3000}
    assert results["writer"]["recorded"] > 0  # the version before recorded while the revision ran
    assert results["writer_refused"] == []
    assert results["directory_entries"] == 3000 + results["writer"]["recorded"]
    assert results["differing_from_roster"] == 0


def test_the_household_ids_copy_bench_runs() -> None:
    results = run_bench("household_ids_copy", "--lines", "20000", "--rounds", "1")
    assert results["lines"] == 20000 and len(results["median_s"]) == 4
    assert all(seconds > 0 for seconds in results["median_s"].values())
    assert len(results["moving_a_county_s"]) == 1


def test_the_nonce_claims_bench_runs() -> None:
    results = run_bench("nonce_claims", "--changes", "80", "--clients", "2", "--kept", "100", "--rounds", "1")
    cases = [v for v in results.values() if isinstance(v, dict)]
    assert len(cases) == 4 and all(case["changes"] == 80 for case in cases)
    assert results["forgotten meanwhile"] == 10  # the oldest tenth of the nonces kept, past the memory
