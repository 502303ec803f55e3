//! chat-bench: the chat server's load generator. It speaks only the public API (REST and
//! websockets over real TCP), runs the scenarios of issue 5, checks every message for loss,
//! duplicates and `seq` order, and reports throughput, latency and the server's memory and
//! CPU as a human table (stderr) and one JSON line per scenario (stdout and `--results`).
//!
//! Exit status: 0 when every scenario was correct, 1 when any lost, duplicated or
//! reordered a message or saw an error. Timings never change the exit status.

mod api;
mod report;
mod scenario;
mod server;
mod summary;
mod track;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use report::{Errors, Report, RunContext};
use scenario::Ctx;
use serde_json::{Map, Value};
use server::{Server, ServerSpec};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "chat-bench",
    version,
    about = "Load generator and benchmark of the chat server (public API only).",
    after_help = "Examples:\n  chat-bench --spawn target/release/chat-server all\n  chat-bench --quick --spawn target/debug/chat-server all\n  chat-bench --url http://127.0.0.1:8080 --server-pid 1234 burst --pairs 10 --messages 20000"
)]
struct Cli {
    /// A running server, e.g. http://127.0.0.1:8080 (its rate limits must be raised).
    #[arg(long, global = true)]
    url: Option<String>,
    /// PID of the server given by --url, to read its RSS and CPU from /proc; repeat it for
    /// several instances behind a proxy (their figures are summed).
    #[arg(long = "server-pid", global = true)]
    server_pids: Vec<u32>,
    /// Start this chat-server binary for each scenario (fresh database, raised limits) and
    /// stop it afterwards.
    #[arg(long, global = true)]
    spawn: Option<PathBuf>,
    /// Database of the spawned server (default: a temporary SQLite file). A PostgreSQL
    /// database must exist and should be empty.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// CHAT_WS_QUEUE of the spawned server (default: the server's own default).
    #[arg(long, global = true)]
    ws_queue: Option<usize>,
    /// Extra KEY=VALUE environment of the spawned server (repeatable).
    #[arg(long = "server-env", global = true)]
    server_env: Vec<String>,
    /// Tiny sizes (seconds); fails only on loss, duplicates, disorder or errors.
    #[arg(long, global = true)]
    quick: bool,
    /// Append each scenario's JSON line to this file.
    #[arg(long, global = true)]
    results: Option<PathBuf>,
    /// KEY=VALUE carried in every JSON line (e.g. commit=abc123), repeatable.
    #[arg(long = "tag", global = true)]
    tags: Vec<String>,
    /// Registrations in flight while creating users (Argon2 is CPU bound on the server).
    #[arg(long, global = true, default_value_t = 4)]
    register_concurrency: usize,
    /// Upper bound on one scenario's run time, in seconds [900; search 3600; soak its
    /// --seconds + 600; quick 300].
    #[arg(long, global = true)]
    max_secs: Option<u64>,
    /// Runs of each scenario, each on a fresh server; with more than one, an aggregate line
    /// (median, min–max of every figure, runs marked for CPU pressure) follows the runs'
    /// lines [3; quick 1; search and soak 1].
    #[arg(long, global = true)]
    repeat: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Subcommand)]
enum Command {
    /// N pairs, windowed senders, M messages in all: throughput.
    Burst(scenario::burst::BurstArgs),
    /// P pairs at 1 msg/s per sender for D seconds: latency under ordinary load.
    Steady(scenario::steady::SteadyArgs),
    /// K authenticated sockets held open: server RSS per socket.
    Idle(scenario::idle::IdleArgs),
    /// 50-message pages of a room holding 100,000 messages: p99 per page.
    History(scenario::history::HistoryArgs),
    /// 200 logins at once while websockets carry traffic: websocket p99 during the storm.
    LoginStorm(scenario::login::LoginArgs),
    /// R pairs react and unreact over REST (10 changes/s each) while steady traffic runs:
    /// message_update delivery p99, no lost update.
    Reactions(scenario::reactions::ReactionsArgs),
    /// U users upload ~1 MiB images at once for D seconds: uploads/s, MiB/s, p99, RSS.
    Uploads(scenario::uploads::UploadsArgs),
    /// Message search on a seeded history (`chat-server seed`, 1,000,000 messages): p50/p95/
    /// p99 per kind of query (Latin, Korean, Chinese; 2, 3, 8+ characters; rare and common;
    /// with and without room_id), and a message findable right after its ack.
    Search(scenario::search::SearchArgs),
    /// N pairs at a fixed rate for S seconds: RSS slope after warm-up, descriptors, p99 per
    /// minute, no loss. Not part of `all`.
    Soak(scenario::soak::SoakArgs),
    /// Every scenario above but soak, with its default (or quick) sizes.
    All,
    /// Prints a Markdown table of the JSON lines in FILE (the last line of each scenario,
    /// database and topology), for BENCHMARKS.md. Runs nothing.
    Summarize {
        /// A results file written with --results.
        file: PathBuf,
    },
}

fn defaults<T: clap::Args + clap::FromArgMatches>() -> Result<T> {
    let matches =
        T::augment_args(clap::Command::new("defaults")).try_get_matches_from(["defaults"])?;
    Ok(T::from_arg_matches(&matches)?)
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chat-bench: cannot start the runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("chat-bench: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> Result<bool> {
    if let Command::Summarize { file } = &cli.command {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        print!("{}", summary::markdown(&text));
        return Ok(true);
    }
    let commands = match &cli.command {
        Command::All => vec![
            Command::Burst(defaults()?),
            Command::Steady(defaults()?),
            Command::Idle(defaults()?),
            Command::History(defaults()?),
            Command::LoginStorm(defaults()?),
            Command::Reactions(defaults()?),
            Command::Uploads(defaults()?),
            Command::Search(defaults()?),
        ],
        other => vec![other.clone()],
    };
    let mut tags = Map::new();
    for tag in &cli.tags {
        let (k, v) = tag.split_once('=').unwrap_or((tag.as_str(), ""));
        tags.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    let mut extra_env = Vec::new();
    for kv in &cli.server_env {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--server-env wants KEY=VALUE, got {kv:?}"))?;
        extra_env.push((k.to_owned(), v.to_owned()));
    }
    let spec = ServerSpec {
        url: cli.url.clone(),
        pids: cli.server_pids.clone(),
        spawn: cli.spawn.clone(),
        database_url: cli.database_url.clone(),
        ws_queue: cli.ws_queue,
        extra_env,
    };
    let machine = server::machine();
    eprintln!(
        "chat-bench: {} cores, {:.1} GiB, load {}{}",
        machine.cores,
        machine.mem_total_kib.unwrap_or(0) as f64 / 1024.0 / 1024.0,
        machine.loadavg_at_start.clone().unwrap_or_default(),
        if cli.quick { ", quick mode" } else { "" }
    );
    let mut all_ok = true;
    for command in commands {
        let runs = cli.repeat.unwrap_or(match &command {
            _ if cli.quick => 1,
            Command::Search(_) | Command::Soak(_) => 1,
            _ => 3,
        });
        let runs = runs.max(1);
        // The search seed (1,000,000 messages) and the soak take longer than the others.
        let max = Duration::from_secs(cli.max_secs.unwrap_or(match &command {
            Command::Soak(a) => a.seconds.unwrap_or(if cli.quick { 20 } else { 600 }) + 600,
            _ if cli.quick => 300,
            Command::Search(_) => 3600,
            _ => 900,
        }));
        let mut lines = Vec::with_capacity(runs);
        for run in 1..=runs {
            let (json, ok) = run_scenario(&cli, &spec, &command, &tags, max, (run, runs)).await?;
            all_ok &= ok;
            lines.push(json);
        }
        if runs > 1 {
            let name = lines
                .first()
                .and_then(|l| l["scenario"].as_str())
                .unwrap_or("none")
                .to_owned();
            let line = report::aggregate(&name, &lines);
            eprint!("{}", report::aggregate_human(&line));
            println!("{line}");
            append_result(&cli, &line)?;
        }
    }
    Ok(all_ok)
}

fn append_result(cli: &Cli, json: &Value) -> Result<()> {
    if let Some(path) = &cli.results {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        writeln!(file, "{json}")?;
    }
    Ok(())
}

/// One run of one scenario on a fresh server: its JSON line and whether it was correct.
async fn run_scenario(
    cli: &Cli,
    spec: &ServerSpec,
    command: &Command,
    tags: &Map<String, Value>,
    max: Duration,
    repeat: (usize, usize),
) -> Result<(Value, bool)> {
    {
        let name = match command {
            Command::Burst(_) => "burst",
            Command::Steady(_) => "steady",
            Command::Idle(_) => "idle",
            Command::History(_) => "history",
            Command::LoginStorm(_) => "login-storm",
            Command::Reactions(_) => "reactions",
            Command::Uploads(_) => "uploads",
            Command::Search(_) => "search",
            Command::Soak(_) => "soak",
            Command::All | Command::Summarize { .. } => "none",
        };
        let server = Server::start(spec).await?;
        let context = RunContext {
            quick: cli.quick,
            database: server.database.clone(),
            tags: tags.clone(),
            machine: server::machine(),
            repeat: (repeat.1 > 1).then_some(repeat),
        };
        let api = api::Api::new(&server.base)?;
        let mut ctx = Ctx {
            api,
            server,
            quick: cli.quick,
            run: api::run_prefix(),
            errors: Arc::new(Errors::default()),
            register_concurrency: cli.register_concurrency,
        };
        if repeat.1 > 1 {
            eprintln!(
                "chat-bench: {name} run {} of {} against {} …",
                repeat.0,
                repeat.1,
                ctx.api.base()
            );
        } else {
            eprintln!("chat-bench: {name} against {} …", ctx.api.base());
        }
        let outcome = tokio::time::timeout(max, run_one(&mut ctx, command)).await;
        let mut report = match outcome {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => failed(name, &ctx, format!("{e:#}")),
            Err(_) => failed(name, &ctx, format!("did not finish within {max:?}")),
        };
        if let Some(crash) = ctx.server.crashed() {
            report.checks.errors += 1;
            report.checks.error_samples.push(crash);
        }
        let _ = ctx.server.stop().await;
        let json = report.to_json(&context);
        eprint!("{}", report.human(&context));
        println!("{json}");
        append_result(cli, &json)?;
        Ok((json, report.ok()))
    }
}

async fn run_one(ctx: &mut Ctx, command: &Command) -> Result<Report> {
    match command {
        Command::Burst(a) => scenario::burst::run(ctx, a).await,
        Command::Steady(a) => scenario::steady::run(ctx, a).await,
        Command::Idle(a) => scenario::idle::run(ctx, a).await,
        Command::History(a) => scenario::history::run(ctx, a).await,
        Command::LoginStorm(a) => scenario::login::run(ctx, a).await,
        Command::Reactions(a) => scenario::reactions::run(ctx, a).await,
        Command::Uploads(a) => scenario::uploads::run(ctx, a).await,
        Command::Search(a) => scenario::search::run(ctx, a).await,
        Command::Soak(a) => scenario::soak::run(ctx, a).await,
        Command::All | Command::Summarize { .. } => {
            anyhow::bail!("not a scenario")
        }
    }
}

/// The report of a scenario that could not finish: one error, and what was seen before.
fn failed(name: &str, ctx: &Ctx, why: String) -> Report {
    let mut report = Report::new(name);
    ctx.errors.add(why);
    report.checks.errors = ctx.errors.count();
    report.checks.error_samples = ctx.errors.samples();
    report
}
