#!/usr/bin/env python3
"""The back-fill of docs/operations.md, end to end: replay the IBM sample into rmsd, export the
closed days with `rmsctl export-history --openmetrics`, turn that into TSDB blocks with `promtool
tsdb create-blocks-from openmetrics`, and check that
  - the blocks hold exactly the history's values at the business dates (promtool tsdb dump),
    no sample more and none less;
  - a real Prometheus serving those blocks answers the business-date history dashboard's queries
    with the history's figures on a business date, and one point per day over a month."""

import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import opslib  # noqa: E402

DAY = 86400
BUCKETS = ["current", "1-30", "31-60", "61-90", "91-120", "120+"]
KPIS = [("rms_dso_days", "dso_standard", {"method": "standard"}),
        ("rms_dso_days", "dso_countback", {"method": "countback"}),
        ("rms_dso_days", "dso_best_possible", {"method": "best_possible"}),
        ("rms_add_days", "add", {}),
        ("rms_cei_percent", "cei", {})]


def day_seconds(date):
    import datetime
    return int(datetime.datetime.strptime(date, "%Y-%m-%d")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def series_key(name, labels):
    return (name,) + tuple(sorted(labels.items()))


def expected_samples(history):
    """(series key, timestamp in ms) -> value, from the JSON of /v1/kpis/history."""
    out = {}
    for day in history["days"]:
        t = day_seconds(day["date"])
        out[(series_key("rms_business_date_timestamp_seconds", {}), t * 1000)] = float(t)
        for currency, f in day["currencies"].items():
            for bucket in BUCKETS:
                key = series_key("rms_receivables_open_amount",
                                 {"currency": currency, "bucket": bucket})
                out[(key, t * 1000)] = float(f["aging"][bucket])
            for what in ("overdue", "disputed", "unapplied"):
                key = series_key(f"rms_receivables_{what}_amount", {"currency": currency})
                out[(key, t * 1000)] = float(f[what])
            for name, member, labels in KPIS:
                if f[member] is not None:
                    out[(series_key(name, {"currency": currency, **labels}), t * 1000)] = \
                        float(f[member])
    return out


def dumped_samples(dump_text):
    """The same mapping from `promtool tsdb dump`: {__name__="x", a="b"} value timestamp_ms."""
    out = {}
    for line in dump_text.splitlines():
        m = re.fullmatch(r"\{(.*)\} (\S+) (\d+)", line)
        if not m:
            raise AssertionError(f"unexpected dump line {line!r}")
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        name = labels.pop("__name__")
        out[(series_key(name, labels), int(m.group(3)))] = float(m.group(2))
    return out


def check_blocks(expected, blocks, work):
    # tsdb dump opens the directory as a database, which needs a WAL folder and writes to it:
    # dump a copy.
    db = os.path.join(work, "dump-db")
    shutil.copytree(blocks, db)
    os.makedirs(os.path.join(db, "wal"), exist_ok=True)
    dump = subprocess.run(["promtool", "tsdb", "dump", db], check=True, capture_output=True,
                          text=True).stdout
    got = dumped_samples(dump)
    missing = sorted(set(expected) - set(got))[:5]
    extra = sorted(set(got) - set(expected))[:5]
    wrong = [(k, expected[k], got[k]) for k in expected if k in got and got[k] != expected[k]]
    assert not missing, f"samples missing from the blocks: {missing}"
    assert not extra, f"samples in the blocks that the history does not have: {extra}"
    assert not wrong, f"values differ (series, history, blocks): {wrong[:5]}"
    print(f"blocks hold all {len(expected)} samples of the history, values equal")


def history_queries():
    path = os.path.join(opslib.SOURCE_DIR, "deploy", "grafana", "dashboards", "rms-history.json")
    with open(path) as f:
        dashboard = json.load(f)
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"].replace("$currency", ".*")


def check_prometheus(history, blocks, work):
    tsdb = os.path.join(work, "prometheus-tsdb")
    shutil.copytree(blocks, tsdb)
    config = "global:\n  scrape_interval: 1m\nscrape_configs: []\n"
    with opslib.Prometheus(os.path.join(work, "prometheus"), config, tsdb_dir=tsdb) as prom:
        day = next(d for d in history["days"] if d["date"] == "2013-02-06")
        t = day_seconds(day["date"])
        usd = day["currencies"]["USD"]
        # At 06:00 on the business date: last_over_time([1d]) finds that day's 00:00 sample.
        at = t + 6 * 3600
        for title, expr in history_queries():
            result = prom.api("query", query=expr, time=at)["result"]
            assert result, f"history panel {title!r}: no data at {day['date']} for {expr}"
        dso = prom.api("query", time=at, query='max by (currency, method) (last_over_time('
                       'rms_dso_days{currency="USD", method="standard"}[1d]))')["result"]
        assert float(dso[0]["value"][1]) == usd["dso_standard"], (dso, usd["dso_standard"])
        open_amount = prom.api("query", time=at, query='sum by (currency) (last_over_time('
                               'rms_receivables_open_amount{currency="USD"}[1d]))')["result"]
        assert abs(float(open_amount[0]["value"][1]) - float(usd["open"])) < 0.005, \
            (open_amount, usd["open"])
        # A month at a daily step: one point per business day.
        points = prom.api("query_range", query='max(last_over_time(rms_dso_days{method="standard"}'
                          '[1d]))', start=t, end=t + 29 * DAY, step="1d")["result"][0]["values"]
        assert len(points) == 30, points
        print(f"Prometheus serves the back-filled history: DSO {usd['dso_standard']} and open "
              f"{usd['open']} on {day['date']}, 30 daily points over a month")


def main():
    for tool in (opslib.RMSD, opslib.RMSCTL, "promtool", opslib.PROMETHEUS):
        opslib.require(tool)
    with opslib.temp_dir("backfill") as work:
        with opslib.Rmsd(os.path.join(work, "rmsd")) as rmsd:
            rmsd.replay_ibm()
            history = json.loads(rmsd.get("/v1/kpis/history?from=2010-01-01&to=2019-12-31"))
            export = os.path.join(work, "history.om")
            # A century: rmsctl asks for it in pages of the query API's 3,661-day limit.
            subprocess.run([opslib.RMSCTL, "export-history", "--openmetrics", "--http",
                            rmsd.http, "--from", "2000-01-01", "--to", "2099-12-31", "-o",
                            export], check=True)
        assert len(history["days"]) > 700, len(history["days"])
        with open(export) as f:
            assert f.read().endswith("# EOF\n"), "the export must end with # EOF"

        blocks = os.path.join(work, "blocks")
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                        "--max-block-duration=744h", "--quiet", export, blocks], check=True)
        check_blocks(expected_samples(history), blocks, work)
        check_prometheus(history, blocks, work)
    print("back-fill: ok")


if __name__ == "__main__":
    main()
