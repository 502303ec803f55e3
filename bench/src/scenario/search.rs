//! Search (issue 14): a history seeded by `chat-server seed` (1,000,000 messages of mixed
//! English and Korean in 1,000 rooms of 100 users; quick mode tiny), plus messages with
//! Chinese text sent over REST (the seed writes none), then `GET /api/search` as seeded users,
//! one request at a time: p50/p95/p99 per kind of query — Latin 2, 3 and 8 characters, Korean
//! 2 and 3 syllables, Chinese 2 characters, rare and common — with and without `room_id`, and
//! the second page (`before`) of a common term. Every answer is checked: only the caller's
//! rooms (only the asked room with `room_id`), every result holds the term, newest first.
//!
//! Then "findable after ack": a socket of a fresh pair sends messages with a unique token,
//! and the first search after each `ack` must find it (api.md: a message is findable once it
//! is acknowledged) — a miss is an error, so quick mode fails on it; the time until it shows
//! is reported.

use super::Ctx;
use crate::api::{register_many, Account};
use crate::report::{Report, TargetCheck};
use crate::server::Monitor;
use crate::track::Latency;
use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use shared::{ClientFrame, MessageId, RoomId, SearchQuery, ServerFrame};
use std::collections::HashSet;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct SearchArgs {
    /// Messages seeded by `chat-server seed` [1000000; quick 2000].
    #[arg(long)]
    pub messages: Option<u64>,
    /// Users of the seed [100; quick 10].
    #[arg(long)]
    pub users: Option<usize>,
    /// Rooms of the seed [1000; quick 20].
    #[arg(long)]
    pub rooms: Option<usize>,
    /// Messages with Chinese text sent over REST into the searchers' rooms after seeding
    /// (`chat-server seed` writes English and Korean only) [2000; quick 40].
    #[arg(long)]
    pub han_messages: Option<u64>,
    /// Queries per kind of query and filter, per round [100; quick 3].
    #[arg(long)]
    pub queries: Option<u64>,
    /// Rounds of every series on the same seeded history, each with its CPU pressure, for
    /// the spread of the figures [3; quick 1].
    #[arg(long)]
    pub rounds: Option<u64>,
    /// Seeded users who search, taking turns (each logs in once) [10; quick 2].
    #[arg(long)]
    pub searchers: Option<usize>,
    /// Messages sent and then searched for right after their ack [100; quick 10].
    #[arg(long)]
    pub findable: Option<u64>,
    /// `limit` of every query [20].
    #[arg(long, default_value_t = 20)]
    pub limit: i64,
    /// The database already holds `chat-server seed --prefix PREFIX` (a server given by
    /// --url, or a spawned one on a seeded --database-url): nothing is seeded.
    #[arg(long)]
    pub seeded_prefix: Option<String>,
    /// The seeded users' password (`chat-server seed --password`).
    #[arg(long, default_value = "seed-password-1")]
    pub seed_password: String,
    /// Longest the seeding may take, seconds [1200].
    #[arg(long, default_value_t = 1200)]
    pub seed_secs: u64,
}

/// One kind of query: a term, what path of the server it takes, and whether the seeded
/// history holds it often.
struct Kind {
    name: &'static str,
    term: &'static str,
    /// Many messages hold it: a query of it without `room_id` must find something.
    common: bool,
}

/// Terms of the seed's vocabulary (backend/src/cli.rs: eight of twenty common words per
/// message, `zebrafish 희귀종` in one message of 4,999) and of the Chinese messages below.
const KINDS: &[Kind] = &[
    Kind {
        name: "latin2_common",
        term: "ok",
        common: true,
    },
    Kind {
        name: "latin2_absent",
        term: "zq",
        common: false,
    },
    Kind {
        name: "latin3_common",
        term: "the",
        common: true,
    },
    Kind {
        name: "latin3_rare",
        term: "zeb",
        common: false,
    },
    Kind {
        name: "latin8_common",
        term: "tomorrow",
        common: true,
    },
    Kind {
        name: "latin8_rare",
        term: "zebrafis",
        common: false,
    },
    Kind {
        name: "latin_upper_common",
        term: "MEETING",
        common: true,
    },
    Kind {
        name: "korean2_common",
        term: "대화",
        common: true,
    },
    Kind {
        name: "korean2_rare",
        term: "희귀",
        common: false,
    },
    Kind {
        name: "korean3_rare",
        term: "희귀종",
        common: false,
    },
    Kind {
        name: "chinese2_common",
        term: "会议",
        common: true,
    },
    Kind {
        name: "chinese2_rare",
        term: "斑马",
        common: false,
    },
];

/// Words of the Chinese messages; one in `HAN_RARE_EVERY` also holds `斑马鱼` (zebrafish).
const HAN_WORDS: &[&str] = &[
    "会议",
    "明天",
    "服务器",
    "咖啡",
    "谢谢",
    "你好",
    "下午",
    "确认",
    "今天",
    "午饭",
];
const HAN_RARE: &str = "斑马鱼";
const HAN_RARE_EVERY: u64 = 50;

/// One series of queries (a kind, with or without `room_id`) over all rounds.
struct SeriesRun {
    key: String,
    term: &'static str,
    common: bool,
    filtered: bool,
    /// The second page of the term (`before` the first page's last id).
    page2: bool,
    /// Served by an index (everything but two Latin characters).
    indexed: bool,
    samples: Vec<u32>,
    hits: u64,
    results: u64,
}

/// A searcher: a seeded user, signed in, and the rooms it is a member of.
struct Searcher {
    account: Account,
    rooms: Vec<i64>,
}

pub async fn run(ctx: &mut Ctx, args: &SearchArgs) -> Result<Report> {
    let quick = ctx.quick;
    let messages = args
        .messages
        .unwrap_or(if quick { 2_000 } else { 1_000_000 });
    let users = args.users.unwrap_or(if quick { 10 } else { 100 }).max(2);
    let rooms = args.rooms.unwrap_or(if quick { 20 } else { 1_000 }).max(1);
    let han_messages = args.han_messages.unwrap_or(if quick { 40 } else { 2_000 });
    let queries = args.queries.unwrap_or(if quick { 3 } else { 100 }).max(1);
    let rounds = args.rounds.unwrap_or(if quick { 1 } else { 3 }).max(1);
    let searchers_n = args
        .searchers
        .unwrap_or(if quick { 2 } else { 10 })
        .clamp(1, users);
    let findable = args.findable.unwrap_or(if quick { 10 } else { 100 });
    let limit = args.limit.clamp(1, shared::SEARCH_MAX_LIMIT);
    let wait = Duration::from_secs(if quick { 60 } else { 30 });
    let mut report = Report::new("search");
    report.param("limit", limit);
    report.param("queries_per_series", queries);
    report.param("rounds", rounds);
    report.param("searchers", searchers_n);
    report.param("han_messages", han_messages);
    report.param("findable", findable);

    // The history.
    let prefix = match &args.seeded_prefix {
        Some(prefix) => {
            report.param("seeded", "before the run");
            report.param("seeded_prefix", prefix);
            // As given (the seed printed them when it ran).
            report.param("messages", messages);
            report.param("users", users);
            report.param("rooms", rooms);
            prefix.clone()
        }
        None => {
            if !ctx.server.is_spawned() {
                bail!(
                    "search seeds through `chat-server seed` on a spawned server; against --url \
                     seed the database yourself and give --seeded-prefix"
                );
            }
            let prefix = ctx.prefix("q");
            let seed_args: Vec<String> = vec![
                "--prefix".into(),
                prefix.clone(),
                "--users".into(),
                users.to_string(),
                "--rooms".into(),
                rooms.to_string(),
                "--messages".into(),
                messages.to_string(),
                "--password".into(),
                args.seed_password.clone(),
            ];
            let started = Instant::now();
            eprintln!(
                "chat-bench: search: chat-server seed {} (stops and restarts the server) …",
                seed_args.join(" ")
            );
            let printed = ctx
                .server
                .seed(&seed_args, Duration::from_secs(args.seed_secs))
                .await
                .context("seeding")?;
            let secs = started.elapsed().as_secs_f64();
            report.param("messages", messages);
            report.param("users", users);
            report.param("rooms", rooms);
            report.metric(
                "seed_seconds",
                secs,
                format!(
                    "chat-server seed: {messages} messages, {users} users, {rooms} rooms in \
                     {secs:.1} s ({:.0} msg/s) — {printed}",
                    messages as f64 / secs.max(1e-9)
                ),
            );
            prefix
        }
    };
    if let Some(size) = ctx.server.database_bytes() {
        report.metric(
            "database_bytes",
            size,
            format!(
                "database file after seeding: {:.1} MiB",
                size as f64 / 1048576.0
            ),
        );
    }
    if let Some(tables) = ctx.server.sqlite_table_bytes().await {
        describe_index_size(&mut report, &tables);
    }

    // The searchers and their rooms.
    let mut searchers = Vec::with_capacity(searchers_n);
    for i in 0..searchers_n {
        let name = format!("{prefix}{i}");
        let account = ctx
            .api
            .login_with(&name, &args.seed_password)
            .await
            .with_context(|| format!("signing in as the seeded user {name}"))?;
        let rooms: Vec<i64> = ctx
            .api
            .rooms(&account.token)
            .await?
            .iter()
            .map(|r| r.id.0)
            .collect();
        if rooms.is_empty() {
            bail!("the seeded user {name} is in no room");
        }
        searchers.push(Searcher { account, rooms });
    }

    // Chinese messages into the searchers' rooms (REST, 16 in flight).
    if han_messages > 0 {
        let started = Instant::now();
        let run = ctx.run.clone();
        let targets: Vec<(Account, i64)> = searchers
            .iter()
            .flat_map(|s| s.rooms.iter().map(|r| (s.account.clone(), *r)))
            .collect();
        let sent: Vec<Result<()>> = futures_util::stream::iter(0..han_messages)
            .map(|n| {
                let api = ctx.api.clone();
                let (who, room) = targets[n as usize % targets.len()].clone();
                let body = han_body(n);
                let client_id = format!("{run}-han-{n}");
                async move {
                    api.send_rest(&who, room, body, client_id).await?;
                    Ok(())
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        for r in sent {
            if let Err(e) = r {
                ctx.errors.add(format!("sending a Chinese message: {e:#}"));
            }
        }
        let secs = started.elapsed().as_secs_f64();
        report.metric(
            "han_seed_seconds",
            secs,
            format!("{han_messages} messages with Chinese text sent over REST in {secs:.1} s"),
        );
    }

    // The queries: every series `queries` times per round, `rounds` rounds on the same seeded
    // history (reseeding a million messages per run would take minutes), each round with its
    // own CPU pressure, so the figures come with their spread.
    let monitor = Monitor::start(ctx.pids());
    let mut rng = crate::track::now_us() | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut series: Vec<SeriesRun> = KINDS
        .iter()
        .flat_map(|kind| {
            [false, true].map(|filtered| SeriesRun {
                key: format!("{}{}", kind.name, if filtered { "_room" } else { "" }),
                term: kind.term,
                common: kind.common,
                filtered,
                page2: false,
                indexed: !kind.name.starts_with("latin2"),
                samples: Vec::new(),
                hits: 0,
                results: 0,
            })
        })
        .collect();
    series.push(SeriesRun {
        key: "latin3_common_page2".into(),
        term: "the",
        common: true,
        filtered: false,
        page2: true,
        indexed: true,
        samples: Vec::new(),
        hits: 0,
        results: 0,
    });
    let mut disorder = 0u64;
    let mut checked = 0u64;
    let mut rounds_json = Vec::new();
    let mut round_indexed_p99 = Vec::new();
    for round in 0..rounds {
        let round_monitor = Monitor::start(ctx.pids());
        let mut round_indexed = Vec::new();
        let mut round_p99 = serde_json::Map::new();
        for s in series.iter_mut() {
            let mut round_samples = Vec::with_capacity(queries as usize);
            for q in 0..queries {
                let searcher = &searchers[q as usize % searchers.len()];
                let room = s
                    .filtered
                    .then(|| searcher.rooms[next() as usize % searcher.rooms.len()]);
                let mut query = SearchQuery {
                    q: s.term.to_owned(),
                    room_id: room.map(RoomId),
                    before: None,
                    limit: Some(limit),
                };
                if s.page2 {
                    // The second page: `before` = the last id of the first (not timed).
                    let first = ctx.api.search(&searcher.account.token, &query, wait).await;
                    match first.map(|(_, a)| a.results.last().map(|m| m.id.0)) {
                        Ok(Some(last)) => query.before = Some(MessageId(last)),
                        Ok(None) => continue,
                        Err(e) => {
                            ctx.errors.add(format!("{}: {e:#}", s.key));
                            continue;
                        }
                    }
                }
                match ctx.api.search(&searcher.account.token, &query, wait).await {
                    Ok((us, answer)) => {
                        round_samples.push(us);
                        checked += 1;
                        let before = query.before.map(|b| b.0);
                        disorder += check_answer(ctx, s.term, searcher, room, before, &answer);
                        s.results += answer.results.len() as u64;
                        s.hits += u64::from(!answer.results.is_empty());
                    }
                    Err(e) => ctx.errors.add(format!("{}: {e:#}", s.key)),
                }
            }
            round_p99.insert(
                s.key.clone(),
                serde_json::json!(Latency::from_us(round_samples.clone()).p99_ms),
            );
            if s.indexed {
                round_indexed.extend(round_samples.iter().copied());
            }
            s.samples.extend(round_samples);
        }
        let u = round_monitor.finish();
        let indexed_p99 = Latency::from_us(round_indexed).p99_ms;
        round_indexed_p99.push(indexed_p99);
        rounds_json.push(serde_json::json!({
            "round": round + 1,
            "indexed_p99_ms": indexed_p99,
            "cpu_pressure_pct": u.cpu_pressure_pct,
            "cpu_pressure_marked": u.cpu_pressure_marked,
            "seconds": u.wall_seconds,
            "p99_ms": round_p99,
        }));
    }
    let mut all_us = Vec::new();
    let mut index_us = Vec::new();
    let mut series_json = serde_json::Map::new();
    let mut rows = Vec::new();
    let mut worst_p99 = 0.0f64;
    for s in &series {
        if s.common && !s.filtered && s.hits == 0 && messages >= 1_000 {
            ctx.errors.add(format!(
                "{} ({:?}): no query found anything in a seeded history",
                s.key, s.term
            ));
        }
        all_us.extend(s.samples.iter().copied());
        if s.indexed {
            index_us.extend(s.samples.iter().copied());
        }
        let p95_ms = percentile_ms(&s.samples, 95.0);
        let latency = Latency::from_us(s.samples.clone());
        worst_p99 = worst_p99.max(latency.p99_ms);
        // The spread of this series' p99 over the rounds.
        let per_round: Vec<f64> = rounds_json
            .iter()
            .filter_map(|r| r["p99_ms"][&s.key].as_f64())
            .collect();
        let spread = (rounds > 1)
            .then(|| crate::report::Spread::of(per_round))
            .flatten();
        rows.push((
            s.key.clone(),
            format!(
                "{:<10} p50 {:.2} / p95 {p95_ms:.2} / p99 {:.2} / max {:.2} ms, {} of {} found something{}",
                if s.page2 {
                    "\"the\" p.2".to_owned()
                } else {
                    format!("{:?}", s.term)
                },
                latency.p50_ms,
                latency.p99_ms,
                latency.max_ms,
                s.hits,
                latency.count,
                spread.as_ref().map_or(String::new(), |sp| format!(
                    "; p99 per round {:.2}–{:.2}",
                    sp.min, sp.max
                ))
            ),
        ));
        series_json.insert(
            s.key.clone(),
            serde_json::json!({
                "term": s.term, "room_id": s.filtered, "latency": latency, "p95_ms": p95_ms,
                "hits": s.hits, "results": s.results, "p99_per_round": spread,
            }),
        );
    }
    if let Some(sp) = (rounds > 1)
        .then(|| crate::report::Spread::of(round_indexed_p99))
        .flatten()
    {
        let pressure: Vec<String> = rounds_json
            .iter()
            .map(|r| {
                r["cpu_pressure_pct"].as_f64().map_or("n/a".into(), |p| {
                    format!(
                        "{p:.0}%{}",
                        if r["cpu_pressure_marked"].as_bool() == Some(true) {
                            " MARKED"
                        } else {
                            ""
                        }
                    )
                })
            })
            .collect();
        report.metric(
            "rounds_indexed_p99",
            &sp,
            format!(
                "{rounds} rounds: p99 of the indexed queries median {:.2} ({:.2}–{:.2}) ms; CPU pressure per round {}",
                sp.median,
                sp.min,
                sp.max,
                pressure.join(" · ")
            ),
        );
    }
    report
        .metrics
        .insert("rounds".into(), serde_json::Value::Array(rounds_json));
    let all_p95 = percentile_ms(&all_us, 95.0);
    let all = Latency::from_us(all_us);
    let indexed = Latency::from_us(index_us);

    // Findable right after the ack.
    let found = findable_after_ack(ctx, findable, wait).await;
    let usage = monitor.finish();

    report.metric(
        "query_latency",
        all,
        format!("every query: {} (p95 {all_p95:.2} ms)", all.brief()),
    );
    report.metric(
        "indexed_query_latency",
        indexed,
        format!(
            "queries of 3+ characters or of Korean/Chinese: {}",
            indexed.brief()
        ),
    );
    report
        .metrics
        .insert("series".into(), serde_json::Value::Object(series_json));
    for (k, v) in rows {
        report.rows.push((k, v));
    }
    let (findable_stats, probes_ok) = match found {
        Ok(f) => f,
        Err(e) => {
            ctx.errors.add(format!("findable after ack: {e:#}"));
            (FindableStats::default(), 0)
        }
    };
    report.metric(
        "ack_latency",
        findable_stats.ack,
        format!(
            "findable probes, send → ack: {}",
            findable_stats.ack.brief()
        ),
    );
    report.metric(
        "findable_latin",
        findable_stats.latin,
        format!(
            "ack → the unique Latin token found (no room_id): {}",
            findable_stats.latin.brief()
        ),
    );
    report.metric(
        "findable_han",
        findable_stats.han,
        format!(
            "ack → its two Chinese characters found (room_id): {}",
            findable_stats.han.brief()
        ),
    );
    report.metric(
        "findable_first_try",
        findable_stats.first_try,
        format!(
            "{} of {} searches right after the ack found the message",
            findable_stats.first_try,
            findable_stats.probes * 2
        ),
    );
    report.metric("queries", checked, format!("{checked} queries checked"));
    for kind in [
        "latin3_common",
        "korean2_common",
        "chinese2_common",
        "latin8_rare",
    ] {
        if let Some(p99) = report.metrics["series"][kind]["latency"]["p99_ms"].as_f64() {
            report.targets.push(TargetCheck::at_most(
                &format!("search p99 {kind}"),
                p99,
                50.0,
                "ms",
            ));
        }
    }
    report.targets.push(TargetCheck::at_most(
        "search p99 of any indexed kind",
        indexed.p99_ms,
        50.0,
        "ms",
    ));
    report.note(format!(
        "worst p99 of any series {worst_p99:.2} ms; two Latin characters (\"ok\", \"zq\") are \
         served by a scan of the caller's rooms, not an index (backend/src/domain/search.rs)"
    ));
    // The messages of the findable probes: sent, acknowledged, found by both searches.
    report.checks.sent = findable;
    report.checks.acked = findable_stats.probes;
    report.checks.delivered = probes_ok;
    report.checks.lost = findable_stats.probes.saturating_sub(probes_ok);
    report.checks.disorder = disorder;
    report.checks.errors = ctx.errors.count();
    report.checks.error_samples = ctx.errors.samples();
    report.usage = Some(usage);
    Ok(report)
}

/// A Chinese message: six words of `HAN_WORDS`, the rare word now and then, a number.
fn han_body(n: u64) -> String {
    let mut words: Vec<&str> = (0..6)
        .map(|w| {
            HAN_WORDS[((n.wrapping_mul(2_654_435_761) >> (w * 3)) ^ w) as usize % HAN_WORDS.len()]
        })
        .collect();
    // Every message holds 会议, so the common kind is common in every searcher's rooms.
    words.push("会议");
    if n.is_multiple_of(HAN_RARE_EVERY) {
        words.push(HAN_RARE);
    }
    format!("{} #{n}", words.join(""))
}

fn percentile_ms(samples: &[u32], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[i.clamp(1, sorted.len()) - 1]) / 1000.0
}

/// Checks one answer; errors for a leak or a wrong result, and returns 1 when the results
/// are not newest first (or not older than `before`).
fn check_answer(
    ctx: &Ctx,
    term: &str,
    searcher: &Searcher,
    room: Option<i64>,
    before: Option<i64>,
    answer: &shared::SearchResponse,
) -> u64 {
    let needle = term.to_lowercase();
    let mut last = i64::MAX;
    let mut disorder = 0;
    for m in &answer.results {
        if !searcher.rooms.contains(&m.room_id.0) {
            ctx.errors.add(format!(
                "search {term:?} returned message {} of room {}, not one of the caller's rooms",
                m.id.0, m.room_id.0
            ));
        } else if room.is_some_and(|r| r != m.room_id.0) {
            ctx.errors.add(format!(
                "search {term:?} in room {room:?} returned message {} of room {}",
                m.id.0, m.room_id.0
            ));
        }
        if !m.body.to_lowercase().contains(&needle) {
            ctx.errors.add(format!(
                "search {term:?} returned message {} without the term: {:?}",
                m.id.0, m.body
            ));
        }
        if m.id.0 >= last || before.is_some_and(|b| m.id.0 >= b) {
            disorder = 1;
        }
        last = m.id.0;
    }
    if disorder > 0 {
        ctx.errors.add(format!(
            "search {term:?}: results not newest first (before {before:?})"
        ));
    }
    disorder
}

#[derive(Debug, Default)]
struct FindableStats {
    ack: Latency,
    latin: Latency,
    han: Latency,
    /// Searches (two per message) that found the message at the first try.
    first_try: u64,
    /// Messages sent and acknowledged.
    probes: u64,
}

/// Sends `count` messages from a fresh pair's socket, each with a unique Latin token and two
/// Chinese characters, and after each ack searches for both until the message shows (at most
/// `wait`). A search right after the ack that misses it is an error. Returns the figures and
/// how many messages were found.
async fn findable_after_ack(ctx: &Ctx, count: u64, wait: Duration) -> Result<(FindableStats, u64)> {
    let mut stats = FindableStats::default();
    if count == 0 {
        return Ok((stats, 0));
    }
    let prefix = ctx.prefix("f");
    let accounts = register_many(
        &ctx.api,
        vec![format!("{prefix}a"), format!("{prefix}b")],
        2,
    )
    .await?;
    let (a, b) = match accounts.as_slice() {
        [a, b] => (a.clone(), b.clone()),
        _ => return Err(anyhow!("registration returned {} accounts", accounts.len())),
    };
    let room = ctx.api.open_room(&a, &b.user.username).await?.id.0;
    let me = Searcher {
        account: a.clone(),
        rooms: vec![room],
    };
    let mut socket = ctx.api.socket(&a.token).await?;
    let mut ack_us = Vec::new();
    let mut latin_us = Vec::new();
    let mut han_us = Vec::new();
    let mut found_all = 0u64;
    let mut seen_ids = HashSet::new();
    for i in 0..count {
        let token = format!("fx{}{i:05}z", ctx.run);
        // Two CJK ideographs from the counter: a bigram this room has (almost surely) never
        // held, found only through the bigram index.
        let c1 = char::from_u32(0x4E00 + ((i * 7_919) % 20_000) as u32).unwrap_or('会');
        let c2 = char::from_u32(0x4E00 + ((i * 104_729 + 37) % 20_000) as u32).unwrap_or('议');
        let han: String = [c1, c2].iter().collect();
        let client_id = format!("{prefix}-{i}");
        let sent = Instant::now();
        socket
            .send(&ClientFrame::Send {
                room_id: RoomId(room),
                body: format!("findable {token} {han}"),
                client_id: client_id.clone(),
                reply_to: None,
                attachments: Vec::new(),
            })
            .await
            .map_err(|e| anyhow!("findable send {i}: {e:?}"))?;
        let deadline = sent + wait;
        let message_id = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match socket.next_frame(left).await {
                Ok(ServerFrame::Ack {
                    client_id: c,
                    message,
                }) if c == client_id => {
                    break message.id.0;
                }
                Ok(ServerFrame::Error { code, message, .. }) => {
                    bail!("findable send {i}: error frame {code:?}: {message}")
                }
                Ok(_) => continue,
                Err(e) => bail!("findable send {i}: no ack ({e:?})"),
            }
        };
        let acked = Instant::now();
        ack_us.push(micros(acked - sent));
        stats.probes += 1;
        seen_ids.insert(message_id);
        let mut both = true;
        for (term, room_filter, out) in [
            (token.as_str(), None, &mut latin_us),
            (han.as_str(), Some(room), &mut han_us),
        ] {
            let mut tries = 0u32;
            let found = loop {
                tries += 1;
                let query = SearchQuery {
                    q: term.to_owned(),
                    room_id: room_filter.map(RoomId),
                    before: None,
                    limit: Some(5),
                };
                match ctx.api.search(&a.token, &query, wait).await {
                    Ok((_, answer)) => {
                        check_answer(ctx, term, &me, room_filter, None, &answer);
                        if answer.results.iter().any(|m| m.id.0 == message_id) {
                            break true;
                        }
                    }
                    Err(e) => ctx.errors.add(format!("findable search {term:?}: {e:#}")),
                }
                if acked.elapsed() >= wait {
                    break false;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let after_ack = acked.elapsed();
            if !found {
                both = false;
                ctx.errors.add(format!(
                    "message {message_id} ({term:?}) not found by search within {wait:?} of its ack"
                ));
            } else {
                out.push(micros(after_ack));
                if tries == 1 {
                    stats.first_try += 1;
                } else {
                    ctx.errors.add(format!(
                        "message {message_id} ({term:?}) not findable right after its ack: found \
                         by search try {tries}, {:.1} ms after the ack",
                        after_ack.as_secs_f64() * 1000.0
                    ));
                }
            }
        }
        found_all += u64::from(both);
    }
    socket.close().await;
    stats.ack = Latency::from_us(ack_us);
    stats.latin = Latency::from_us(latin_us);
    stats.han = Latency::from_us(han_us);
    Ok((stats, found_all))
}

fn micros(d: Duration) -> u32 {
    d.as_micros().min(u128::from(u32::MAX)) as u32
}

/// The index's share of the database from SQLite's `dbstat` (tables and their indexes).
fn describe_index_size(report: &mut Report, tables: &[(String, u64)]) {
    let sum = |pred: &dyn Fn(&str) -> bool| -> u64 {
        tables
            .iter()
            .filter(|(name, _)| pred(name))
            .map(|(_, b)| *b)
            .sum()
    };
    let search = sum(&|n| n.starts_with("message_search"));
    let bigrams = sum(&|n| n.starts_with("message_bigrams") || n.contains("bigram"));
    let messages = sum(&|n| {
        n == "messages"
            || (n.starts_with("sqlite_autoindex_messages")
                || n.starts_with("idx_messages")
                || n.starts_with("messages_"))
    });
    let total: u64 = tables.iter().map(|(_, b)| *b).sum();
    let mib = |b: u64| b as f64 / 1048576.0;
    report.metric(
        "index_bytes",
        serde_json::json!({
            "fts5_trigram": search, "bigrams": bigrams, "messages": messages, "database": total,
            "tables": tables.iter().map(|(n, b)| serde_json::json!([n, b])).collect::<Vec<_>>(),
        }),
        format!(
            "FTS5 trigram {:.1} MiB + bigrams {:.1} MiB = {:.2}× the messages table and its \
             indexes ({:.1} MiB); database {:.1} MiB (dbstat)",
            mib(search),
            mib(bigrams),
            (search + bigrams) as f64 / (messages.max(1)) as f64,
            mib(messages),
            mib(total)
        ),
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn chinese_bodies_hold_the_common_word_and_now_and_then_the_rare_one() {
        let rare = (0..100)
            .filter(|n| super::han_body(*n).contains("斑马"))
            .count();
        assert_eq!(rare, 2);
        assert!((0..100).all(|n| super::han_body(n).contains("会议")));
    }

    #[test]
    fn percentiles() {
        let samples: Vec<u32> = (1..=100).map(|v| v * 1000).collect();
        assert_eq!(super::percentile_ms(&samples, 95.0), 95.0);
        assert_eq!(super::percentile_ms(&[], 95.0), 0.0);
    }
}
