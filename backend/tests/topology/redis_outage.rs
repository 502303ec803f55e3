//! Redis stopped and restarted mid-conversation: the instances keep accepting and storing,
//! health says pub/sub is down and then ok again, nothing acknowledged is lost, and live
//! delivery across instances resumes by itself.

use crate::client::{assert_exactly_once, Api, ChatClient};
use crate::harness::{Options, Topology};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_loses_nothing_and_live_delivery_comes_back() {
    // Arrange: eve's socket on instance 1, fay's on instance 2, so every live event between
    // them has to go through Redis.
    // The closes after the outage spread over 2 s (10 by default; the spread itself is a
    // unit test of the hub), so the test stays short.
    let options = Options {
        extra_env: vec![("CHAT_RECONNECT_SPREAD_SECS".into(), "2".into())],
        ..Options::default()
    };
    let Some(mut topology) = Topology::start("redis_outage", options).await else {
        return;
    };
    let one = Api::new(&topology.instance(1).url());
    let two = Api::new(&topology.instance(2).url());
    let eve_user = one.register("eve").await;
    let fay_user = two.register("fay").await;
    let room = one.open_room(&eve_user, &fay_user).await.id;
    let mut eve = ChatClient::new(
        "eve",
        eve_user,
        room,
        one.clone(),
        &topology.instance(1).ws_url(),
    );
    let mut fay = ChatClient::new(
        "fay",
        fay_user,
        room,
        two.clone(),
        &topology.instance(2).ws_url(),
    );
    eve.ensure_connected().await;
    fay.ensure_connected().await;
    let mut all = Vec::new();

    // Before: live both ways.
    for i in 0..3 {
        all.push(
            eve.send(&format!("before {i}"), &format!("eve-before-{i}"))
                .await,
        );
        assert!(
            fay.wait_live_until(all.len() as i64, Duration::from_secs(10))
                .await,
            "fay did not get eve's message live before the outage"
        );
        all.push(
            fay.send(&format!("reply {i}"), &format!("fay-before-{i}"))
                .await,
        );
        assert!(
            eve.wait_live_until(all.len() as i64, Duration::from_secs(10))
                .await,
            "eve did not get fay's message live before the outage"
        );
    }

    // Act 1: Redis goes away. Both instances notice and say so, and keep storing messages.
    topology.redis.stop();
    for api in [&one, &two] {
        let (status, health) = api.wait_pubsub("down", Duration::from_secs(30)).await;
        assert_eq!(
            status, 503,
            "{}: health with Redis down: {health}",
            api.base
        );
        assert_eq!(health["db"], "ok", "{health}");
    }
    for i in 0..5 {
        all.push(
            eve.send(&format!("during {i}"), &format!("eve-during-{i}"))
                .await,
        );
        all.push(
            fay.send(&format!("during {i}"), &format!("fay-during-{i}"))
                .await,
        );
    }
    let stored_during = one
        .messages_after(&eve.user, room, 0)
        .await
        .expect("history from instance 1 with Redis down");
    assert_eq!(
        stored_during.len(),
        all.len(),
        "messages acknowledged during the outage are stored"
    );

    // Act 2: Redis comes back on the same address; nobody restarts anything.
    topology.redis.restart();
    for api in [&one, &two] {
        let (status, health) = api.wait_pubsub("ok", Duration::from_secs(60)).await;
        assert_eq!(
            status, 200,
            "{}: health after Redis returned: {health}",
            api.base
        );
    }

    // Assert: live delivery resumes by itself. Once Redis is back the instances close every
    // socket (1012, spread over the configured seconds) so that clients reconnect and catch up; within a few messages, new ones
    // arrive as live frames on the other instance again, in both directions.
    assert!(
        live_again(&mut eve, &mut fay, &mut all).await,
        "eve → fay: live delivery did not resume after Redis came back"
    );
    assert!(
        live_again(&mut fay, &mut eve, &mut all).await,
        "fay → eve: live delivery did not resume after Redis came back"
    );
    let last = all.len() as i64;
    for client in [&mut eve, &mut fay] {
        client.settle(last, Duration::from_secs(5)).await;
        assert!(
            client.stats.violations.is_empty(),
            "{}: {:?}",
            client.name,
            client.stats.violations
        );
        assert_exactly_once(&client.name, &client.view, &all);
        eprintln!("{}: {:?}", client.name, client.stats);
    }
    let history = two
        .messages_after(&fay.user, room, 0)
        .await
        .expect("history from instance 2");
    let stored = history.into_iter().map(|m| (m.seq, m)).collect();
    assert_exactly_once("the stored history", &stored, &all);
}

/// Sends from `sender` until one message reaches `receiver` as a live frame (at most 10).
async fn live_again(
    sender: &mut ChatClient,
    receiver: &mut ChatClient,
    all: &mut Vec<shared::Message>,
) -> bool {
    for attempt in 0..10 {
        let sent = sender
            .send(
                &format!("after {attempt}"),
                &format!("{}-after-{attempt}", sender.name),
            )
            .await;
        all.push(sent.clone());
        assert!(
            receiver
                .wait_live_until(sent.seq, Duration::from_secs(15))
                .await,
            "{} never got seq {} (live or by catch-up)",
            receiver.name,
            sent.seq
        );
        if receiver.live_seqs.contains(&sent.seq) {
            eprintln!(
                "{} → {}: live again after {} message(s)",
                sender.name,
                receiver.name,
                attempt + 1
            );
            return true;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    false
}
