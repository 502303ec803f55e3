//! Reactions: while steady traffic runs (as in `steady`), the two members of each of R pairs
//! react and unreact on their room's newest messages over REST, C changes/s per pair in all.
//! Measures `message_update` delivery (just before the REST call → the update carrying that
//! change's `rev` on the peer's socket, and on the reacting user's own) and checks that no
//! update is lost: every change's `rev` reaches both sockets, and at the end the version each
//! socket holds of every touched message (highest `rev` seen) equals the database's.

use super::pairs::{
    connect_pairs, join_senders, lock, setup_pairs, shut_down, totals, wait_drained, Pair, Shared,
};
use super::steady::{Plan, SteadyArgs};
use super::Ctx;
use crate::api::Api;
use crate::report::{Errors, Report, TargetCheck};
use crate::server::Monitor;
use crate::track::{describe_slow_seconds, now_us, slow_seconds, Latency};
use anyhow::Result;
use shared::UserId;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The emoji the members toggle (each one grapheme, no variation selector).
const EMOJI: [&str; 5] = ["👍", "😂", "🎉", "👀", "🔥"];

#[derive(Debug, Clone, clap::Args)]
pub struct ReactionsArgs {
    /// Pairs whose two members react and unreact [50; quick 5].
    #[arg(long)]
    pub pairs: Option<usize>,
    /// Seconds of reacting, and of the steady traffic beside it [30; quick 3].
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Reaction changes per second per pair, its two members taking turns [10].
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Reactions land on one of the room's newest N messages (those both sockets hold) [5].
    #[arg(long, default_value_t = 5)]
    pub recent: i64,
    /// Pairs carrying steady traffic (1 msg/s per sender, 100-byte bodies, as in `steady`);
    /// the first `--pairs` of them also react [500; quick 5].
    #[arg(long)]
    pub steady_pairs: Option<usize>,
}

/// One reaction added or removed, as its REST answer numbered it.
#[derive(Debug, Clone, Copy)]
struct Change {
    rev: i64,
    seq: i64,
    /// Just before the request was sent.
    sent_us: u64,
    /// Request → answer.
    rest_us: u32,
    /// Made by the pair's sender (whose socket is the pair's `echo`).
    by_sender: bool,
}

/// What one member did: its changes, and the reactions it believes it holds at the end.
struct MemberRun {
    user_id: UserId,
    changes: Vec<Change>,
    holds: BTreeSet<(i64, usize)>,
}

/// One member's turn-taking: `count` changes at one per `period` from `begin`.
struct Member {
    api: Api,
    state: Shared,
    index: u32,
    room_id: i64,
    token: String,
    user_id: UserId,
    by_sender: bool,
    begin: Instant,
    period: Duration,
    count: u64,
    recent: i64,
    wait: Duration,
    errors: Arc<Errors>,
}

impl Member {
    /// The newest `seq` both sockets of the pair have been given (0: none yet).
    fn newest(&self) -> i64 {
        let st = lock(&self.state);
        st.recipient.last_seq().min(st.echo.last_seq())
    }

    async fn run(self) -> MemberRun {
        let mut out = MemberRun {
            user_id: self.user_id,
            changes: Vec::with_capacity(self.count as usize),
            holds: BTreeSet::new(),
        };
        // Reactions need a message both sockets hold; steady traffic brings one within a
        // second.
        let deadline = Instant::now() + self.wait;
        while self.newest() < 1 {
            if Instant::now() >= deadline {
                self.errors.add(format!(
                    "pair {}: no message reached both sockets within {:?}",
                    self.index, self.wait
                ));
                return out;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let start = self.begin.max(Instant::now());
        let mut ticks = tokio::time::interval_at(start, self.period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        // xorshift64, seeded per member: which message and emoji each change takes.
        let mut rng =
            0x9e37_79b9_7f4a_7c15u64 ^ (u64::from(self.index) << 1 | u64::from(self.by_sender));
        for _ in 0..self.count {
            ticks.tick().await;
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let newest = self.newest();
            let seq = (newest - (rng % self.recent.max(1) as u64) as i64).max(1);
            let emoji = (rng >> 32) as usize % EMOJI.len();
            let add = !out.holds.contains(&(seq, emoji));
            let sent_us = now_us();
            let answer = self
                .api
                .react(&self.token, self.room_id, seq, EMOJI[emoji], add, self.wait)
                .await;
            let rest_us = now_us().saturating_sub(sent_us).min(u64::from(u32::MAX)) as u32;
            match answer {
                Ok(message) => {
                    let holds = message
                        .reactions
                        .iter()
                        .any(|r| r.emoji == EMOJI[emoji] && r.user_ids.contains(&self.user_id));
                    if holds != add {
                        self.errors.add(format!(
                            "pair {}: {} {} on message {seq} answered rev {} without it",
                            self.index,
                            if add { "adding" } else { "removing" },
                            EMOJI[emoji],
                            message.rev
                        ));
                    }
                    if holds {
                        out.holds.insert((seq, emoji));
                    } else {
                        out.holds.remove(&(seq, emoji));
                    }
                    out.changes.push(Change {
                        rev: message.rev,
                        seq,
                        sent_us,
                        rest_us,
                        by_sender: self.by_sender,
                    });
                }
                Err(e) => self
                    .errors
                    .add(format!("pair {}: reaction: {e:#}", self.index)),
            }
        }
        out
    }
}

/// Starts both members of every reacting pair: `rate` changes/s per pair, the members
/// alternating, the pairs' phases spread over one period. Each task ends by itself.
fn start_reactors(
    ctx: &Ctx,
    pairs: &[Pair],
    seconds: u64,
    rate: f64,
    recent: i64,
) -> Vec<(usize, JoinHandle<MemberRun>)> {
    // Each member makes every other change of its pair.
    let period = Duration::from_secs_f64(2.0 / rate);
    let count = (seconds as f64 * rate / 2.0).floor().max(1.0) as u64;
    let begin = Instant::now() + Duration::from_millis(300);
    let n = pairs.len().max(1);
    let mut tasks = Vec::new();
    for (i, pair) in pairs.iter().enumerate() {
        let phase = period.mul_f64(i as f64 / n as f64);
        for (by_sender, account) in [(true, &pair.sender), (false, &pair.recipient)] {
            let member = Member {
                api: ctx.api.clone(),
                state: pair.state.clone(),
                index: pair.index,
                room_id: pair.room_id,
                token: account.token.clone(),
                user_id: account.user.id,
                by_sender,
                begin: begin
                    + phase
                    + if by_sender {
                        Duration::ZERO
                    } else {
                        period / 2
                    },
                period,
                count,
                recent,
                wait: ctx.ack_wait(),
                errors: ctx.errors.clone(),
            };
            tasks.push((i, tokio::spawn(member.run())));
        }
    }
    tasks
}

/// Waits until every change's `rev` reached both sockets of its pair, or `within` passes.
async fn wait_updates(pairs: &[Pair], changes: &[Vec<Change>], within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let all = pairs.iter().zip(changes).all(|(p, cs)| {
            let st = lock(&p.state);
            cs.iter().all(|c| {
                st.recipient_updates.arrival(c.rev).is_some()
                    && st.echo_updates.arrival(c.rev).is_some()
            })
        });
        if all {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The final comparison with the database: each touched message as both sockets hold it,
/// and each member's reactions as it believes them. Returns the mismatches (each also an
/// error).
async fn verify(ctx: &Ctx, pair: &Pair, members: &[MemberRun], changes: &[Change]) -> u64 {
    let stored = match ctx
        .api
        .changed_after(&pair.recipient.token, pair.room_id, 0)
        .await
    {
        Ok(messages) => messages,
        Err(e) => {
            ctx.errors
                .add(format!("pair {}: reading the room back: {e:#}", pair.index));
            return 1;
        }
    };
    let stored: HashMap<i64, _> = stored.into_iter().map(|m| (m.seq, m)).collect();
    let touched: BTreeSet<i64> = changes.iter().map(|c| c.seq).collect();
    let mut mismatches = 0;
    let st = lock(&pair.state);
    for seq in &touched {
        let db = stored.get(seq);
        for (socket, updates) in [
            ("recipient", &st.recipient_updates),
            ("sender", &st.echo_updates),
        ] {
            let held = updates.latest(*seq);
            if held != db {
                mismatches += 1;
                ctx.errors.add(format!(
                    "pair {} {socket} socket: message {seq} held at rev {:?} {:?}, the database has rev {:?} {:?}",
                    pair.index,
                    held.map(|m| m.rev),
                    held.map(|m| &m.reactions),
                    db.map(|m| m.rev),
                    db.map(|m| &m.reactions),
                ));
            }
        }
        for member in members {
            for (e, emoji) in EMOJI.iter().enumerate() {
                let believed = member.holds.contains(&(*seq, e));
                let in_db = db.is_some_and(|m| {
                    m.reactions
                        .iter()
                        .any(|r| r.emoji == *emoji && r.user_ids.contains(&member.user_id))
                });
                if believed != in_db {
                    mismatches += 1;
                    ctx.errors.add(format!(
                        "pair {}: user {} {} {emoji} on message {seq} by its answers, the database says otherwise",
                        pair.index,
                        member.user_id,
                        if believed { "holds" } else { "does not hold" },
                    ));
                }
            }
        }
    }
    mismatches
}

pub async fn run(ctx: &Ctx, args: &ReactionsArgs) -> Result<Report> {
    let reacting = args.pairs.unwrap_or(if ctx.quick { 5 } else { 50 }).max(1);
    let seconds = args
        .seconds
        .unwrap_or(if ctx.quick { 3 } else { 30 })
        .max(1);
    let rate = if args.rate > 0.0 && args.rate.is_finite() {
        args.rate
    } else {
        10.0
    };
    let recent = args.recent.max(1);
    let plan = Plan::new(
        ctx,
        &SteadyArgs {
            pairs: Some(
                args.steady_pairs
                    .unwrap_or(if ctx.quick { 5 } else { 500 })
                    .max(reacting),
            ),
            seconds: Some(seconds),
            rate: 1.0,
            body_bytes: 100,
        },
    );
    let mut report = Report::new("reactions");
    report.param("pairs", reacting);
    report.param("seconds", seconds);
    report.param("changes_per_sec_per_pair", rate);
    report.param("recent", recent);
    plan.params(&mut report, "steady_");

    let prefix = ctx.prefix("x");
    let pairs = setup_pairs(&ctx.api, &prefix, plan.pairs, ctx.register_concurrency).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (senders, readers) =
        connect_pairs(&ctx.api, &pairs, 1 << 20, &prefix, &ctx.errors, &stop_rx).await?;

    let monitor = Monitor::start(ctx.pids());
    let start_us = now_us();
    let steady = plan.start(ctx, senders);
    let reactors = start_reactors(ctx, &pairs[..reacting], seconds, rate, recent);
    let mut members: Vec<Vec<MemberRun>> = (0..reacting).map(|_| Vec::new()).collect();
    for (i, task) in reactors {
        match task.await {
            Ok(run) => members[i].push(run),
            Err(e) => ctx.errors.add(format!("reaction task: {e}")),
        }
    }
    let finished = join_senders(steady, &ctx.errors).await;
    let changes: Vec<Vec<Change>> = members
        .iter()
        .map(|ms| ms.iter().flat_map(|m| m.changes.iter().copied()).collect())
        .collect();
    let drained = wait_drained(&pairs, ctx.drain_wait()).await;
    let updates_drained = wait_updates(&pairs, &changes, ctx.drain_wait()).await;
    let usage = monitor.finish();
    if !drained {
        ctx.errors
            .add("not every acknowledged message arrived before the drain timeout");
    }
    if !updates_drained {
        ctx.errors
            .add("not every change's message_update arrived before the drain timeout");
    }
    shut_down(&stop_tx, finished, readers).await;

    let mut mismatches = 0;
    for ((pair, ms), cs) in pairs.iter().zip(&members).zip(&changes) {
        mismatches += verify(ctx, pair, ms, cs).await;
    }
    // Two changes of one room never share a `rev`.
    let mut shared_revs = 0;
    for (pair, cs) in pairs.iter().zip(&changes) {
        let revs: BTreeSet<i64> = cs.iter().map(|c| c.rev).collect();
        if revs.len() != cs.len() {
            shared_revs += cs.len() - revs.len();
            ctx.errors.add(format!(
                "pair {}: {} changes answered with a rev another change had",
                pair.index,
                cs.len() - revs.len()
            ));
        }
    }

    let mut peer = Vec::new();
    let mut own = Vec::new();
    let mut rest = Vec::new();
    let mut lost = 0u64;
    let (mut delivered, mut duplicates, mut stale, mut ignored) = (0u64, 0u64, 0u64, 0u64);
    for (pair, cs) in pairs.iter().zip(&changes) {
        let st = lock(&pair.state);
        for c in cs {
            rest.push(c.rest_us);
            let (peer_socket, own_socket) = if c.by_sender {
                (&st.recipient_updates, &st.echo_updates)
            } else {
                (&st.echo_updates, &st.recipient_updates)
            };
            for (socket, into) in [(peer_socket, &mut peer), (own_socket, &mut own)] {
                match socket.arrival(c.rev) {
                    Some(at) => {
                        let latency = at.saturating_sub(c.sent_us).min(u64::from(u32::MAX));
                        into.push((at, latency as u32));
                    }
                    None => lost += 1,
                }
            }
        }
        for updates in [&st.recipient_updates, &st.echo_updates] {
            delivered += updates.received;
            duplicates += updates.duplicates;
            stale += updates.stale;
        }
        ignored += st.ignored_frames;
    }
    let made: usize = changes.iter().map(Vec::len).sum();
    let peer_latency = Latency::from_us(peer.iter().map(|l| l.1).collect());
    let own_latency = Latency::from_us(own.iter().map(|l| l.1).collect());
    let rest_latency = Latency::from_us(rest);
    report.metric(
        "update_latency",
        peer_latency,
        format!(
            "before the REST call → message_update on the peer's socket: {}",
            peer_latency.brief()
        ),
    );
    report.metric(
        "update_latency_own",
        own_latency,
        format!(
            "… on the reacting user's own socket: {}",
            own_latency.brief()
        ),
    );
    report.metric(
        "reaction_rest_latency",
        rest_latency,
        format!("REST request → answer: {}", rest_latency.brief()),
    );
    report.metric(
        "changes",
        made,
        format!(
            "{made} reaction changes ({:.0}/s offered over {reacting} pairs), {delivered} updates delivered, {lost} lost",
            reacting as f64 * rate
        ),
    );
    report.metric("updates_delivered", delivered, format!("{delivered}"));
    report.metric(
        "lost_updates",
        lost,
        format!("{lost} (change × socket never reached)"),
    );
    report.metric(
        "final_state_mismatches",
        mismatches,
        format!("{mismatches} (socket or member view ≠ database, at the end)"),
    );
    report.metric("shared_revs", shared_revs, format!("{shared_revs}"));
    report.metric(
        "update_duplicates",
        duplicates,
        format!("{duplicates} same rev twice on one socket; {stale} arrived below the rev held"),
    );
    report.metric("stale_updates", stale, format!("{stale}"));
    report.metric(
        "ignored_frames",
        ignored,
        format!("{ignored} frames of unknown types"),
    );
    let slow = slow_seconds(&peer, start_us, 100.0);
    report.metric(
        "update_slow_seconds",
        &slow,
        format!(
            "seconds with an update over 100 ms: {}",
            describe_slow_seconds(&slow)
        ),
    );
    report.targets.push(TargetCheck::at_most(
        "reactions p99 update delivery",
        peer_latency.p99_ms,
        25.0,
        "ms",
    ));

    let t = totals(&pairs, &ctx.errors);
    plan.report(&mut report, &t, start_us);
    report.checks = t.checks;
    report.checks.lost += lost;
    report.usage = Some(usage);
    Ok(report)
}
