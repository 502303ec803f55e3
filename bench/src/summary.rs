//! `chat-bench summarize FILE`: the JSON lines of a results file as a Markdown table.

use serde_json::Value;
use std::collections::BTreeMap;

fn num(v: &Value, path: &[&str]) -> Option<f64> {
    let mut v = v;
    for p in path {
        v = v.get(p)?;
    }
    v.as_f64()
}

fn text(v: &Value, path: &[&str]) -> String {
    let mut v = v;
    for p in path {
        match v.get(p) {
            Some(next) => v = next,
            None => return String::new(),
        }
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn where_run(line: &Value) -> String {
    let topology = text(line, &["tags", "topology"]);
    let database = match text(line, &["tags", "database"]) {
        d if !d.is_empty() => d,
        _ => text(line, &["database"]),
    };
    if topology.is_empty() {
        database
    } else {
        format!("{database}, {topology}")
    }
}

/// The last line of each (scenario, place), as a Markdown table.
pub fn markdown(results: &str) -> String {
    let mut last: BTreeMap<(String, String), Value> = BTreeMap::new();
    let mut order = Vec::new();
    let mut aggregates: BTreeMap<(String, String), Value> = BTreeMap::new();
    let mut aggregate_order = Vec::new();
    for line in results.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(value) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let key = (text(&value, &["scenario"]), where_run(&value));
        if value.get("aggregate").and_then(Value::as_bool) == Some(true) {
            if !aggregates.contains_key(&key) {
                aggregate_order.push(key.clone());
            }
            aggregates.insert(key, value);
            continue;
        }
        if !last.contains_key(&key) {
            order.push(key.clone());
        }
        last.insert(key, value);
    }
    let mut out = String::from(
        "| scenario | where | figure | target | verdict | correctness | server peak RSS | server CPU | CPU / I/O pressure | commit |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for key in order {
        let Some(line) = last.get(&key) else { continue };
        if key.0 == "wasm-bundle" {
            out.push_str(&format!(
                "| wasm-bundle | {} | {} B raw, {} B gzip -9 | — | — | — | — | — | — | {} |\n",
                text(line, &["file"]),
                text(line, &["raw_bytes"]),
                text(line, &["gzip9_bytes"]),
                text(line, &["tags", "commit"]),
            ));
            continue;
        }
        let (figure, target, verdict) = match line.get("targets").and_then(|t| t.get(0)) {
            Some(t) => (
                format!(
                    "{} = {:.2} {}",
                    text(t, &["name"]),
                    num(t, &["value"]).unwrap_or(f64::NAN),
                    text(t, &["target"]).rsplit(' ').next().unwrap_or_default()
                ),
                text(t, &["target"]),
                if t.get("met").and_then(Value::as_bool) == Some(true) {
                    "met".to_owned()
                } else {
                    "**missed**".to_owned()
                },
            ),
            None => ("—".into(), "—".into(), "—".into()),
        };
        let checks = &line["checks"];
        let correctness = if line.get("ok").and_then(Value::as_bool) == Some(true) {
            format!(
                "ok ({} sent, 0 lost/dup/disorder/errors)",
                text(checks, &["sent"])
            )
        } else {
            format!(
                "**FAILED**: lost {} dup {} disorder {} errors {}",
                text(checks, &["lost"]),
                text(checks, &["duplicates"]),
                text(checks, &["disorder"]),
                text(checks, &["errors"])
            )
        };
        let rss = num(line, &["usage", "server_peak_rss_kib"])
            .map_or("n/a".into(), |k| format!("{:.0} MiB", k / 1024.0));
        let cpu = num(line, &["usage", "server_cpu_pct"])
            .map_or("n/a".into(), |c| format!("{c:.0}% of a core"));
        let pressure =
            |what: &str| num(line, &["usage", what]).map_or("n/a".into(), |v| format!("{v:.0}%"));
        out.push_str(&format!(
            "| {} | {} | {figure} | {target} | {verdict} | {correctness} | {rss} | {cpu} | {} / {} | {} |\n",
            key.0,
            key.1,
            pressure("cpu_pressure_pct"),
            pressure("io_pressure_pct"),
            text(line, &["tags", "commit"]),
        ));
    }
    if !aggregate_order.is_empty() {
        out.push_str(&aggregate_table(&aggregate_order, &aggregates));
    }
    out
}

/// The repeated runs: each target's median and spread, the CPU pressure of every run.
fn aggregate_table(
    order: &[(String, String)],
    lines: &BTreeMap<(String, String), Value>,
) -> String {
    let mut out = String::from(
        "\n| scenario | where | runs | figure | median | min–max | CPU pressure per run | marked (> 30 %) | commit |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for key in order {
        let Some(line) = lines.get(key) else { continue };
        let pressure: Vec<String> = line["cpu_pressure_pct"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| v.as_f64().map_or("n/a".into(), |p| format!("{p:.0}%")))
                    .collect()
            })
            .unwrap_or_default();
        let marked = line["marked_runs"].to_string();
        let Some(figures) = line["figures"].as_object() else {
            continue;
        };
        for (name, f) in figures.iter().filter(|(k, _)| {
            k.starts_with("target: ") || k.as_str() == "server_cpu.writer_us_per_message"
        }) {
            let n = |k: &str| f.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
            out.push_str(&format!(
                "| {} | {} | {} | {} | {:.2} | {:.2}–{:.2} | {} | {marked} | {} |\n",
                key.0,
                key.1,
                text(line, &["runs"]),
                name.trim_start_matches("target: "),
                n("median"),
                n("min"),
                n("max"),
                pressure.join(" · "),
                text(line, &["tags", "commit"]),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_last_line_of_each_scenario_and_place() {
        let lines = [
            r#"{"scenario":"burst","ok":true,"database":"sqlite","tags":{"commit":"a"},"targets":[{"name":"burst throughput","target":">= 20000 msg/s","value":100.0,"met":false}],"checks":{"sent":5},"usage":{"server_peak_rss_kib":2048,"server_cpu_pct":50.0},"machine":{"loadavg_at_start":"1 1 1"}}"#,
            r#"{"scenario":"burst","ok":true,"database":"sqlite","tags":{"commit":"b"},"targets":[{"name":"burst throughput","target":">= 20000 msg/s","value":200.0,"met":false}],"checks":{"sent":5},"usage":{},"machine":{}}"#,
            r#"{"scenario":"burst","ok":false,"database":"postgres","tags":{"commit":"b"},"targets":[],"checks":{"lost":1},"usage":{},"machine":{}}"#,
            r#"{"scenario":"wasm-bundle","ok":true,"file":"x.wasm","raw_bytes":10,"gzip9_bytes":5,"tags":{"commit":"b"}}"#,
        ];
        let table = super::markdown(&lines.join("\n"));
        assert_eq!(table.lines().count(), 5, "{table}");
        let aggregate = r#"{"scenario":"burst","aggregate":true,"runs":3,"database":"sqlite","tags":{"commit":"b"},"figures":{"target: burst throughput":{"values":[1.0,2.0,3.0],"median":2.0,"min":1.0,"max":3.0},"metrics.seconds":{"values":[1.0],"median":1.0,"min":1.0,"max":1.0}},"cpu_pressure_pct":[10.0,40.0,5.0],"marked_runs":[2]}"#;
        let with = super::markdown(&format!("{}\n{aggregate}", lines.join("\n")));
        assert!(with.contains("| burst | sqlite | 3 | burst throughput | 2.00 | 1.00–3.00 | 10% · 40% · 5% | [2] | b |"), "{with}");
        assert!(!with.contains("metrics.seconds"));
        assert!(with.contains("burst throughput = 200.00 msg/s"));
        assert!(table.contains("burst throughput = 200.00 msg/s"));
        assert!(!table.contains("= 100.00"));
        assert!(table.contains("**FAILED**: lost 1"));
        assert!(table.contains("10 B raw, 5 B gzip -9"));
    }
}
