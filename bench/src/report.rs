//! What a scenario found: a human table on stderr and one JSON line on stdout (and in
//! `--results`). Correctness (loss, duplicates, disorder, errors) decides the exit code;
//! targets are only compared, never enforced.

use crate::server::{Machine, Usage};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Mutex;

/// Errors seen during a run: counted, with the first few kept for the report.
#[derive(Debug, Default)]
pub struct Errors {
    inner: Mutex<(u64, Vec<String>)>,
}

impl Errors {
    pub fn add(&self, what: impl Into<String>) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.0 += 1;
            if inner.1.len() < 8 {
                inner.1.push(what.into());
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.inner.lock().map(|i| i.0).unwrap_or(0)
    }

    pub fn samples(&self) -> Vec<String> {
        self.inner.lock().map(|i| i.1.clone()).unwrap_or_default()
    }
}

/// Fewer acknowledged messages than this give no CPU per message (it would be noise).
pub const MIN_MESSAGES_PER_MESSAGE_CPU: u64 = 200;

/// Correctness counters: any non-zero of lost, duplicates, disorder, errors fails the run.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Checks {
    pub sent: u64,
    pub acked: u64,
    /// Deliveries of messages to the sockets that must receive them.
    pub delivered: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub disorder: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
}

impl Checks {
    pub fn ok(&self) -> bool {
        self.lost == 0 && self.duplicates == 0 && self.disorder == 0 && self.errors == 0
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub name: String,
    /// e.g. `>= 20000 msg/s`.
    pub target: String,
    pub value: f64,
    pub met: bool,
}

impl TargetCheck {
    pub fn at_least(name: &str, value: f64, bound: f64, unit: &str) -> Self {
        TargetCheck {
            name: name.into(),
            target: format!(">= {bound} {unit}"),
            value,
            met: value >= bound,
        }
    }

    pub fn at_most(name: &str, value: f64, bound: f64, unit: &str) -> Self {
        TargetCheck {
            name: name.into(),
            target: format!("<= {bound} {unit}"),
            value,
            met: value <= bound,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub scenario: String,
    pub params: Map<String, Value>,
    pub metrics: Map<String, Value>,
    /// Human rows, in order.
    pub rows: Vec<(String, String)>,
    pub checks: Checks,
    pub targets: Vec<TargetCheck>,
    pub usage: Option<Usage>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(scenario: &str) -> Self {
        Report {
            scenario: scenario.into(),
            ..Default::default()
        }
    }

    pub fn param(&mut self, key: &str, value: impl Serialize) {
        self.params.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }

    /// A figure: into the JSON under `key`, and a human row.
    pub fn metric(&mut self, key: &str, value: impl Serialize, human: impl Into<String>) {
        self.metrics.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self.rows.push((key.into(), human.into()));
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn ok(&self) -> bool {
        self.checks.ok()
    }

    pub fn to_json(&self, context: &RunContext) -> Value {
        serde_json::json!({
            "scenario": self.scenario,
            "ok": self.ok(),
            "quick": context.quick,
            "database": context.database,
            "unix_time": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
            "tags": context.tags,
            "repeat": context.repeat.map(|(run, of)| serde_json::json!({"run": run, "of": of})),
            "machine": context.machine,
            "params": self.params,
            "metrics": self.metrics,
            "checks": self.checks,
            "targets": self.targets,
            "usage": self.usage,
            "server_cpu": self.server_cpu(),
            "notes": self.notes,
        })
    }

    /// The writer's and the workers' CPU over the measured phase, and the writer's per
    /// acknowledged message (issue 16: the writer thread is the ceiling).
    pub fn server_cpu(&self) -> Option<Value> {
        let u = self.usage.as_ref()?;
        if u.server_threads.is_empty() {
            return None;
        }
        let writer = u.group_cpu("message-writer");
        let workers = u.group_cpu("actix-rt|system");
        let messages = self.checks.acked;
        // Per message only where messages are the work (a search run sends a handful).
        let per_message = |cpu: Option<f64>| {
            cpu.filter(|_| messages >= MIN_MESSAGES_PER_MESSAGE_CPU)
                .map(|c| c * 1e6 / messages as f64)
        };
        Some(serde_json::json!({
            "writer_cpu_seconds": writer,
            "writer_busy_pct": writer.map(|w| w / u.wall_seconds.max(1e-9) * 100.0),
            "writer_us_per_message": per_message(writer),
            "workers_cpu_seconds": workers,
            "workers_us_per_message": per_message(workers),
            "messages": messages,
            "total_cpu_seconds": u.server_cpu_seconds,
            "groups": u
                .server_threads
                .iter()
                .map(|g| (g.group.clone(), serde_json::json!(g.cpu_seconds)))
                .collect::<Map<String, Value>>(),
        }))
    }

    pub fn human(&self, context: &RunContext) -> String {
        let mut out = String::new();
        let title = format!(
            "== {} ({}{}) ==",
            self.scenario,
            context.database,
            if context.quick { ", quick" } else { "" }
        );
        out.push_str(&title);
        out.push('\n');
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut rows: Vec<(String, String)> = vec![("params".into(), params.join(" "))];
        rows.extend(self.rows.iter().cloned());
        let c = &self.checks;
        rows.push((
            "correctness".into(),
            format!(
                "{} — sent {} acked {} delivered {} lost {} dup {} disorder {} errors {}",
                if c.ok() { "OK" } else { "FAILED" },
                c.sent,
                c.acked,
                c.delivered,
                c.lost,
                c.duplicates,
                c.disorder,
                c.errors
            ),
        ));
        for sample in &c.error_samples {
            rows.push(("  error".into(), sample.clone()));
        }
        if let Some(u) = &self.usage {
            let kib = |v: Option<u64>| {
                v.map_or("n/a".into(), |v| format!("{:.1} MiB", v as f64 / 1024.0))
            };
            rows.push((
                "server".into(),
                format!(
                    "peak RSS {} (start {}, end {}), CPU {} over {:.1} s; load generator CPU {}",
                    kib(u.server_peak_rss_kib),
                    kib(u.server_rss_start_kib),
                    kib(u.server_rss_end_kib),
                    u.server_cpu_pct
                        .map_or("n/a".into(), |v| format!("{v:.0}% of a core")),
                    u.wall_seconds,
                    u.client_cpu_pct
                        .map_or("n/a".into(), |v| format!("{v:.0}%")),
                ),
            ));
        }
        if let Some(u) = &self.usage {
            let groups: Vec<String> = u
                .server_threads
                .iter()
                .filter(|g| g.cpu_seconds > 0.0)
                .take(6)
                .map(|g| format!("{} ×{} {:.2} s", g.group, g.threads, g.cpu_seconds))
                .collect();
            if !groups.is_empty() {
                rows.push(("server threads".into(), groups.join(", ")));
            }
            if let Some(cpu) = self.server_cpu() {
                let f = |k: &str| cpu.get(k).and_then(Value::as_f64);
                if let Some(w) = f("writer_cpu_seconds") {
                    rows.push((
                        "writer".into(),
                        format!(
                            "message-writer {w:.2} CPU s ({:.0}% busy){}",
                            f("writer_busy_pct").unwrap_or(0.0),
                            f("writer_us_per_message").map_or(String::new(), |us| format!(
                                ", {us:.1} µs per acknowledged message"
                            ))
                        ),
                    ));
                }
            }
            if let (Some(a), Some(b)) = (u.server_fds_start, u.server_fds_end) {
                rows.push((
                    "server fds".into(),
                    format!("{a} at the start, {b} at the end"),
                ));
            }
        }
        if let Some(u) = &self.usage {
            let pct = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.0}%"));
            rows.push((
                "machine".into(),
                format!(
                    "CPU pressure {} and I/O pressure {} of the time (some task waiting), load {} at the end{}",
                    pct(u.cpu_pressure_pct),
                    pct(u.io_pressure_pct),
                    u.load_at_end.clone().unwrap_or_default(),
                    if u.cpu_pressure_marked {
                        format!(
                            " — MARKED: CPU pressure over {:.0}%, a neighbour shaped this run",
                            crate::server::PRESSURE_MARK_PCT
                        )
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        if let Some(f) = &context.machine.fsync_4k {
            rows.push((
                "disk".into(),
                format!(
                    "4 KiB write + fdatasync: p50 {:.2} / p90 {:.2} / max {:.2} ms; CPU {}",
                    f.p50_ms,
                    f.p90_ms,
                    f.max_ms,
                    context.machine.cpu_model.clone().unwrap_or_default()
                ),
            ));
        }
        for t in &self.targets {
            let verdict = match (context.quick, t.met) {
                (true, _) => "not judged at quick sizes",
                (false, true) => "met",
                (false, false) => "MISSED",
            };
            rows.push((
                "target".into(),
                format!("{}: {:.2} vs {} — {verdict}", t.name, t.value, t.target),
            ));
        }
        for n in &self.notes {
            rows.push(("note".into(), n.clone()));
        }
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in rows {
            out.push_str(&format!("  {k:<width$}  {v}\n"));
        }
        out
    }
}

/// What every JSON line carries besides the scenario's own figures.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub quick: bool,
    pub database: String,
    pub tags: Map<String, Value>,
    pub machine: Machine,
    /// (this run, of how many) when the scenario is repeated.
    pub repeat: Option<(usize, usize)>,
}

/// The figures of one scenario's repeated runs, by JSON path (`metrics.latency.p99_ms`,
/// `targets.burst throughput`, …): each run's value, the median and the spread.
#[derive(Debug, Clone, Serialize)]
pub struct Spread {
    pub values: Vec<f64>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: Vec<f64>) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Spread {
            values,
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }
}

/// The numbers worth comparing across runs of one JSON line: every target's value, every
/// numeric metric and the p50/p99 of every latency metric, the server's CPU, the writer's
/// µs per message, the CPU pressure.
pub fn comparable_figures(line: &Value) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    if let Some(targets) = line.get("targets").and_then(Value::as_array) {
        for t in targets {
            if let (Some(name), Some(v)) = (
                t.get("name").and_then(Value::as_str),
                t.get("value").and_then(Value::as_f64),
            ) {
                out.push((format!("target: {name}"), v));
            }
        }
    }
    if let Some(metrics) = line.get("metrics").and_then(Value::as_object) {
        for (k, v) in metrics {
            match v {
                Value::Number(n) => {
                    if let Some(f) = n.as_f64() {
                        out.push((format!("metrics.{k}"), f));
                    }
                }
                Value::Object(o) if o.contains_key("p99_ms") => {
                    for p in ["p50_ms", "p99_ms"] {
                        if let Some(f) = o.get(p).and_then(Value::as_f64) {
                            out.push((format!("metrics.{k}.{p}"), f));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    for (path, key) in [
        (&["usage", "server_cpu_pct"][..], "usage.server_cpu_pct"),
        (&["usage", "cpu_pressure_pct"][..], "usage.cpu_pressure_pct"),
        (
            &["server_cpu", "writer_us_per_message"][..],
            "server_cpu.writer_us_per_message",
        ),
        (
            &["server_cpu", "writer_busy_pct"][..],
            "server_cpu.writer_busy_pct",
        ),
    ] {
        let mut v = line;
        let mut found = true;
        for p in path {
            match v.get(p) {
                Some(next) => v = next,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if let Some(f) = v.as_f64().filter(|_| found) {
            out.push((key.to_owned(), f));
        }
    }
    out
}

/// The aggregate line of N runs of one scenario: median and min–max of each figure, which
/// runs were marked for CPU pressure, and whether every run was correct.
pub fn aggregate(scenario: &str, lines: &[Value]) -> Value {
    let mut order: Vec<String> = Vec::new();
    let mut values: std::collections::HashMap<String, Vec<f64>> = Default::default();
    for line in lines {
        for (k, v) in comparable_figures(line) {
            if !values.contains_key(&k) {
                order.push(k.clone());
            }
            values.entry(k).or_default().push(v);
        }
    }
    let mut figures = Map::new();
    for k in order {
        if let Some(spread) = values.remove(&k).and_then(Spread::of) {
            figures.insert(k, serde_json::to_value(spread).unwrap_or(Value::Null));
        }
    }
    let marked: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l["usage"]["cpu_pressure_marked"].as_bool() == Some(true))
        .map(|(i, _)| i + 1)
        .collect();
    let first = lines.first().cloned().unwrap_or(Value::Null);
    serde_json::json!({
        "scenario": scenario,
        "aggregate": true,
        "runs": lines.len(),
        "ok": lines.iter().all(|l| l["ok"].as_bool() == Some(true)),
        "quick": first["quick"],
        "database": first["database"],
        "tags": first["tags"],
        "machine": first["machine"],
        "params": first["params"],
        "figures": figures,
        "cpu_pressure_pct": lines.iter().map(|l| l["usage"]["cpu_pressure_pct"].clone()).collect::<Vec<_>>(),
        "marked_runs": marked,
    })
}

/// The aggregate as a human table.
pub fn aggregate_human(line: &Value) -> String {
    let mut out = format!(
        "== {} ({}), {} runs: median (min–max) ==\n",
        line["scenario"].as_str().unwrap_or_default(),
        line["database"].as_str().unwrap_or_default(),
        line["runs"]
    );
    if let Some(figures) = line["figures"].as_object() {
        let width = figures.keys().map(String::len).max().unwrap_or(0);
        for (k, v) in figures {
            let f = |key: &str| v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN);
            out.push_str(&format!(
                "  {k:<width$}  {:.2} ({:.2}–{:.2})\n",
                f("median"),
                f("min"),
                f("max")
            ));
        }
    }
    let marked = line["marked_runs"].as_array().map_or(0, Vec::len);
    if marked > 0 {
        out.push_str(&format!(
            "  MARKED: runs {} had CPU pressure over {:.0}%\n",
            line["marked_runs"],
            crate::server::PRESSURE_MARK_PCT
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn spread_is_the_median_and_the_range() {
        let s = super::Spread::of(vec![3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(super::Spread::of(vec![4.0, 1.0]).unwrap().median, 2.5);
        assert!(super::Spread::of(vec![]).is_none());
    }

    #[test]
    fn aggregate_takes_targets_metrics_latencies_and_marks_pressure() {
        let run = |rate: f64, pressure: f64| {
            json!({
                "scenario": "burst", "ok": true, "database": "sqlite",
                "targets": [{"name": "burst throughput", "value": rate}],
                "metrics": {"delivered_msgs_per_sec": rate, "latency": {"p50_ms": 1.0, "p99_ms": rate / 100.0}, "slow_seconds": []},
                "usage": {"cpu_pressure_pct": pressure, "cpu_pressure_marked": pressure > 30.0},
                "server_cpu": {"writer_us_per_message": 40.0},
            })
        };
        let line = super::aggregate(
            "burst",
            &[run(100.0, 5.0), run(300.0, 50.0), run(200.0, 10.0)],
        );
        assert_eq!(line["runs"], 3);
        assert_eq!(line["figures"]["target: burst throughput"]["median"], 200.0);
        assert_eq!(line["figures"]["metrics.latency.p99_ms"]["max"], 3.0);
        assert_eq!(
            line["figures"]["server_cpu.writer_us_per_message"]["min"],
            40.0
        );
        assert_eq!(line["marked_runs"], json!([2]));
        assert!(super::aggregate_human(&line).contains("MARKED: runs [2]"));
    }
}
