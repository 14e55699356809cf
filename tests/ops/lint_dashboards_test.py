#!/usr/bin/env python3
"""The dashboard lint catches what it is for: each case breaks one rule in a copy of a real
dashboard and expects exactly that finding; the real dashboards pass. Run by ctest."""

import copy
import importlib.util
import json
import os
import sys
import tempfile
import unittest

SOURCE_DIR = os.environ.get("RMS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
GRAFANA = os.path.join(SOURCE_DIR, "deploy", "grafana")
spec = importlib.util.spec_from_file_location("lint", os.path.join(GRAFANA, "lint_dashboards.py"))
lint = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lint)

# The families rmsd exports, as # TYPE lines of a scrape: enough for the metric check.
SCRAPE = """# TYPE rms_receivables_open_amount gauge
# TYPE rms_receivables_overdue_amount gauge
# TYPE rms_receivables_disputed_amount gauge
# TYPE rms_receivables_unapplied_amount gauge
# TYPE rms_dso_days gauge
# TYPE rms_add_days gauge
# TYPE rms_cei_percent gauge
# TYPE rms_business_date_timestamp_seconds gauge
# TYPE rms_events_total counter
# TYPE rms_event_commit_seconds histogram
# TYPE rms_ingest_connections gauge
# TYPE rms_store_disk_free_bytes gauge
# TYPE rms_ready gauge
# TYPE rms_promises_total counter
# TYPE rms_promises_broken_total counter
# TYPE rms_actions_total counter
# TYPE rms_segment_customers gauge
# TYPE rms_worklist_customers gauge
# TYPE rms_rules_reloads_total counter
"""


def dashboards():
    folder = os.path.join(GRAFANA, "dashboards")
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".json"))


class LintTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.scrape = os.path.join(self.dir.name, "scrape.txt")
        with open(self.scrape, "w") as f:
            f.write(SCRAPE)
        with open(os.path.join(GRAFANA, "dashboards", "rms-receivables.json")) as f:
            self.base = json.load(f)

    def tearDown(self):
        self.dir.cleanup()

    def errors_of(self, dashboard=None, text=None):
        path = os.path.join(self.dir.name, "d.json")
        with open(path, "w") as f:
            f.write(text if text is not None else json.dumps(dashboard))
        linter = lint.Linter(lint.exported_metrics(self.scrape))
        linter.check_file(path)
        return linter.errors

    def broken(self, change):
        d = copy.deepcopy(self.base)
        change(d)
        return self.errors_of(d)

    def first_target(self, d):
        return next(p for p in d["panels"] if p["type"] != "row")["targets"][0]

    def assertOneError(self, errors, text):
        self.assertEqual(len(errors), 1, errors)
        self.assertIn(text, errors[0])

    def test_real_dashboards_pass(self):
        linter = lint.Linter(lint.exported_metrics(self.scrape))
        for path in dashboards():
            linter.check_file(path)
        self.assertEqual(linter.errors, [])
        self.assertGreaterEqual(len(linter.queries), 30)

    def test_duplicate_key_is_invalid_json(self):
        self.assertOneError(self.errors_of(text='{"uid": "a", "uid": "b"}'), "duplicate key")

    def test_duplicate_panel_id(self):
        def change(d):
            d["panels"][2]["id"] = d["panels"][1]["id"]
        self.assertOneError(self.broken(change), "is used twice")

    def test_missing_unit(self):
        def change(d):
            del d["panels"][1]["fieldConfig"]["defaults"]["unit"]
        self.assertOneError(self.broken(change), "no unit")

    def test_missing_description(self):
        def change(d):
            d["panels"][1]["description"] = ""
        self.assertOneError(self.broken(change), "no description")

    def test_hard_coded_datasource(self):
        def change(d):
            self.first_target(d)["datasource"] = {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}
        self.assertOneError(self.broken(change), "datasource must be")

    def test_import_placeholder(self):
        def change(d):
            d["panels"][1]["datasource"] = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        errors = self.broken(change)
        self.assertTrue(any("import-wizard" in e for e in errors), errors)

    def test_no_datasource_variable(self):
        def change(d):
            d["templating"]["list"] = [v for v in d["templating"]["list"]
                                       if v["name"] != "datasource"]
        self.assertOneError(self.broken(change), "variable named datasource")

    def test_money_summed_across_currencies(self):
        def change(d):
            self.first_target(d)["expr"] = "sum(rms_receivables_open_amount)"
        self.assertOneError(self.broken(change), "must keep currency")

    def test_money_by_currency_after_the_argument_passes(self):
        def change(d):
            self.first_target(d)["expr"] = "sum(rms_receivables_open_amount) by (currency)"
        self.assertEqual(self.broken(change), [])

    def test_money_without_aggregation(self):
        def change(d):
            self.first_target(d)["expr"] = "rms_receivables_open_amount"
        self.assertOneError(self.broken(change), "must aggregate by (currency)")

    def test_metric_not_exported(self):
        def change(d):
            self.first_target(d)["expr"] = "sum by (currency) (rms_promises_open)"
        self.assertOneError(self.broken(change), "rms_promises_open is not in the scrape")

    def test_histogram_series_count_as_exported(self):
        def change(d):
            self.first_target(d)["expr"] = (
                "sum(rate(rms_event_commit_seconds_count[$__rate_interval]))")
        self.assertEqual(self.broken(change), [])

    def test_fixed_rate_window(self):
        def change(d):
            self.first_target(d)["expr"] = "sum(rate(rms_events_total[5m]))"
        self.assertOneError(self.broken(change), "rate() must take [$__rate_interval]")

    def test_range_total_may_take_the_time_range(self):
        def change(d):
            self.first_target(d)["expr"] = "sum(increase(rms_promises_broken_total[$__range]))"
        self.assertEqual(self.broken(change), [])

    def test_duplicate_uid_across_files(self):
        linter = lint.Linter(None)
        path = dashboards()[0]
        linter.check_file(path)
        linter.check_file(path)
        self.assertTrue(any("is also used by" in e for e in linter.errors), linter.errors)

    def test_metric_names_skip_functions_labels_and_keywords(self):
        names = lint.metric_names('histogram_quantile(0.99, sum by (le) (rate('
                                  'rms_event_commit_seconds_bucket{instance=~"a|b"}[5m]))) '
                                  '> bool 1e3 and on (job) rms_ready offset 1h')
        self.assertEqual(names, {"rms_event_commit_seconds_bucket", "rms_ready"})


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=1)
