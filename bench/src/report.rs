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
            "machine": context.machine,
            "params": self.params,
            "metrics": self.metrics,
            "checks": self.checks,
            "targets": self.targets,
            "usage": self.usage,
            "notes": self.notes,
        })
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
            let pct = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.0}%"));
            rows.push((
                "machine".into(),
                format!(
                    "CPU pressure {} and I/O pressure {} of the time (some task waiting), load {} at the end",
                    pct(u.cpu_pressure_pct),
                    pct(u.io_pressure_pct),
                    u.load_at_end.clone().unwrap_or_default()
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
}
