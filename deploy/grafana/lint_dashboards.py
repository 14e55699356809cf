#!/usr/bin/env python3
"""Static checks of the RMS Grafana dashboards, with no Grafana needed (python3 stdlib only).

    lint_dashboards.py [--metrics SCRAPE] [--emit-rules FILE] DASHBOARD.json...

Checks, for every dashboard:
  - the file is valid JSON without duplicate keys, with a uid and a title unique across files,
    an integer schemaVersion, and no import-wizard leftovers (__inputs, ${DS_...});
  - a templating variable `datasource` of type datasource (query prometheus), and every panel,
    target and query variable uses {"type": "prometheus", "uid": "${datasource}"};
  - panel ids are unique; every panel but a row has a title, a description and a unit;
  - rate(), irate() and increase() take [$__rate_interval] ([$__range] for range totals);
  - a query on a money metric (*_amount) aggregates, and every aggregation keeps `currency`:
    `sum by (currency, ...)`, never a sum across currencies;
  - with --metrics, every metric a query names is one that file (a real scrape of rmsd's
    /metrics) exposes; histogram families count with their _bucket, _sum and _count series.
--emit-rules writes every query, variables substituted ($__rate_interval as 5m, $__interval as
1m, $__range as 1h, other variables as .*), as a rule file for `promtool check rules`, which
reports a malformed query with its position.

Exit status: 0 when every check passes, 1 when one fails (each failure printed on stderr as
FILE: panel ID "TITLE": what), 2 on bad arguments.
"""

import argparse
import json
import re
import sys

DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}

AGGREGATIONS = {
    "sum", "avg", "min", "max", "count", "group", "stddev", "stdvar", "topk", "bottomk",
    "quantile", "count_values",
}
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and",
    "or", "unless", "inf", "nan",
}
RATE_FUNCTIONS = ("rate", "irate", "increase")
MONEY_SUFFIX = "_amount"


class DuplicateKey(ValueError):
    pass


def reject_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def substitute(expr):
    """The query as Prometheus would receive it from Grafana, variables given test values."""
    expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m")
    expr = expr.replace("$__range", "1h")
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", ".*", expr)


def strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)


def metric_names(expr):
    """The metric names a PromQL expression selects (a small tokenizer, enough for dashboards)."""
    text = strip_strings(expr)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    # Numbers and durations (0.99, 1e3, 1h30m) first, so that their letters are not names.
    for match in re.finditer(r"[0-9][\w.]*|[A-Za-z_:][A-Za-z0-9_:]*", text):
        token = match.group(0)
        if token[0].isdigit() or token.lower() in KEYWORDS:
            continue
        rest = text[match.end():].lstrip()
        if rest.startswith("("):
            continue  # a function or an aggregation
        names.add(token)
    return names


def aggregations(expr):
    """(operator, grouping text or None) for every aggregation in the expression."""
    text = strip_strings(expr)
    found = []
    operators = "|".join(sorted(AGGREGATIONS))
    pattern = r"\b(" + operators + r")\s*(\b(?:by|without)\s*\(([^)]*)\))?\s*\("
    for match in re.finditer(pattern, text):
        clause = match.group(2)
        grouping = None
        if clause:
            labels = [label.strip() for label in match.group(3).split(",")]
            grouping = (clause.split("(")[0].strip(), labels)
        else:
            # The clause may also follow the argument: sum(x) by (currency).
            depth, i = 1, match.end()
            while i < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[i], 0)
                i += 1
            after = re.match(r"\s*\b(by|without)\s*\(([^)]*)\)", text[i:])
            if after:
                grouping = (after.group(1), [l.strip() for l in after.group(2).split(",")])
        found.append((match.group(1), grouping))
    return found


def exported_metrics(scrape_path):
    names = set()
    with open(scrape_path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[0] == "#" and parts[1] == "TYPE":
                names.add(parts[2])
                if parts[3] in ("histogram", "summary"):
                    names.update(parts[2] + s for s in ("_bucket", "_sum", "_count"))
            elif line and not line.startswith("#"):
                names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    names.discard("")
    return names


def walk_panels(panels):
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


class Linter:
    def __init__(self, exported):
        self.exported = exported
        self.errors = []
        self.uids = {}
        self.titles = {}
        self.queries = []  # (dashboard uid, panel id, refId, expr)

    def fail(self, where, what):
        self.errors.append(f"{where}: {what}")

    def check_metrics(self, where, expr):
        for name in sorted(metric_names(expr)):
            if not name.startswith("rms_"):
                self.fail(where, f"metric {name} is not one of rmsd's (rms_...)")
            elif self.exported is not None and name not in self.exported:
                self.fail(where, f"metric {name} is not in the scrape of rmsd's /metrics")

    def check_expr(self, where, expr):
        self.check_metrics(where, expr)
        for function in RATE_FUNCTIONS:
            for match in re.finditer(r"\b" + function + r"\s*\(", expr):
                # The range of this call: the first [...] after it.
                window = re.search(r"\[([^\]]*)\]", expr[match.end():])
                if not window or window.group(1) not in ("$__rate_interval", "$__range"):
                    self.fail(where, f"{function}() must take [$__rate_interval] (or [$__range] "
                                     "for a total over the time range)")
        if any(name.endswith(MONEY_SUFFIX) for name in metric_names(expr)):
            aggs = aggregations(expr)
            if not aggs:
                self.fail(where, "a money query must aggregate by (currency)")
            for op, grouping in aggs:
                keeps_currency = grouping is not None and (
                    (grouping[0] == "by" and "currency" in grouping[1])
                    or (grouping[0] == "without" and "currency" not in grouping[1]))
                if not keeps_currency:
                    self.fail(where, f"{op}() over a money metric must keep currency: "
                                     f"{op} by (currency, ...)")

    def check_datasource(self, where, ds):
        if ds != DATASOURCE_REF:
            self.fail(where, f"datasource must be {json.dumps(DATASOURCE_REF)}, "
                             f"not {json.dumps(ds)}")

    def check_variables(self, path, dashboard):
        variables = dashboard.get("templating", {}).get("list", [])
        ds_vars = [v for v in variables if v.get("name") == "datasource"]
        if (len(ds_vars) != 1 or ds_vars[0].get("type") != "datasource"
                or ds_vars[0].get("query") != "prometheus"):
            self.fail(path, "needs one variable named datasource, type datasource, "
                            "query prometheus")
        for v in variables:
            if v.get("type") != "query":
                continue
            where = f"{path}: variable {v.get('name')}"
            self.check_datasource(where, v.get("datasource"))
            query = v.get("query")
            text = query.get("query", "") if isinstance(query, dict) else query or ""
            m = re.fullmatch(r"\s*label_values\(\s*(.*)\s*,\s*[A-Za-z_]+\s*\)\s*", text)
            self.check_metrics(where, m.group(1) if m else text)

    def check_panel(self, path, uid, panel, ids):
        pid = panel.get("id")
        where = f"{path}: panel {pid} \"{panel.get('title', '')}\""
        if not isinstance(pid, int):
            self.fail(where, "no integer id")
        elif pid in ids:
            self.fail(where, f"id {pid} is used twice")
        ids.add(pid)
        if panel.get("type") == "row":
            return
        if not panel.get("title"):
            self.fail(where, "no title")
        if not panel.get("description"):
            self.fail(where, "no description")
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not unit:
            self.fail(where, "no unit (fieldConfig.defaults.unit)")
        self.check_datasource(where, panel.get("datasource"))
        targets = panel.get("targets") or []
        if not targets:
            self.fail(where, "no query")
        for target in targets:
            twhere = f"{where} query {target.get('refId')}"
            self.check_datasource(twhere, target.get("datasource"))
            expr = target.get("expr", "")
            if not expr:
                self.fail(twhere, "no expr")
                continue
            self.check_expr(twhere, expr)
            self.queries.append((uid, pid, target.get("refId", "?"), expr))

    def check_file(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            dashboard = json.loads(text, object_pairs_hook=reject_duplicates)
        except (OSError, ValueError) as e:
            self.fail(path, f"not valid JSON: {e}")
            return
        if "__inputs" in dashboard or "${DS_" in text:
            self.fail(path, "import-wizard placeholders (__inputs, ${DS_...}) stay literal "
                            "under file provisioning: use the datasource variable")
        uid, title = dashboard.get("uid"), dashboard.get("title")
        for key, value, seen in (("uid", uid, self.uids), ("title", title, self.titles)):
            if not value:
                self.fail(path, f"no {key}")
            elif value in seen:
                self.fail(path, f"{key} {value!r} is also used by {seen[value]}")
            else:
                seen[value] = path
        if not isinstance(dashboard.get("schemaVersion"), int):
            self.fail(path, "schemaVersion must be an integer")
        self.check_variables(path, dashboard)
        ids = set()
        panels = list(walk_panels(dashboard.get("panels", [])))
        if not any(p.get("type") != "row" for p in panels):
            self.fail(path, "no panels")
        for panel in panels:
            self.check_panel(path, uid, panel, ids)


def write_rules(path, queries):
    """A rule file with one recording rule per query (PromQL as JSON strings, valid YAML)."""
    lines = ["# Generated by lint_dashboards.py: every dashboard query, for promtool check rules.",
             "groups:", "  - name: dashboard-queries", "    rules:"]
    for uid, pid, ref, expr in queries:
        name = "dashboard:%s_panel%s_%s:query" % (re.sub(r"[^A-Za-z0-9_]", "_", uid), pid, ref)
        lines.append(f"      - record: {name}")
        lines.append(f"        expr: {json.dumps(substitute(expr))}")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--metrics", help="a scrape of rmsd's /metrics (text exposition)")
    parser.add_argument("--emit-rules", help="write the queries as a rule file here")
    parser.add_argument("dashboards", nargs="+")
    args = parser.parse_args(argv)

    exported = exported_metrics(args.metrics) if args.metrics else None
    if exported is not None and not any(n.startswith("rms_") for n in exported):
        print(f"{args.metrics}: no rms_ metric in the scrape", file=sys.stderr)
        return 2
    linter = Linter(exported)
    for path in args.dashboards:
        linter.check_file(path)
    if args.emit_rules:
        write_rules(args.emit_rules, linter.queries)
    for error in linter.errors:
        print(error, file=sys.stderr)
    print(f"{len(args.dashboards)} dashboards, {len(linter.queries)} queries, "
          f"{len(linter.errors)} problems")
    return 1 if linter.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
