//! `chat-server admin …`: administrator accounts from the command line; `chat-server seed`:
//! generated conversations for load tests.

use crate::config::{AdminCommand, SeedArgs, Settings};
use crate::db::{self, Db, PoolOptions};
use crate::domain::{admin, auth, users};
use anyhow::{bail, Context};
use shared::{DisplayName, Password, Username};
use std::io::{BufRead, IsTerminal};
use std::time::Duration;

pub fn run_admin(settings: &Settings, action: &AdminCommand) -> anyhow::Result<()> {
    let db = Db::connect(
        &settings.database_url,
        &PoolOptions {
            max_size: 1,
            connection_timeout: Duration::from_secs(settings.db_timeout_secs),
        },
    )?;
    let mut conn = db.get_blocking()?;
    match action {
        AdminCommand::Create {
            username,
            display_name,
        } => {
            let username = Username::parse(username)?;
            if let Some(user) = users::find_by_username(&mut conn, username.as_str())? {
                if user.is_admin {
                    println!("{} already is an administrator", username.as_str());
                } else {
                    admin::make_admin(&mut conn, &user, "promote_admin")?;
                    println!("{} is now an administrator", username.as_str());
                }
                return Ok(());
            }
            let password = Password::parse(&read_password()?)?;
            let display_name =
                DisplayName::parse(display_name.as_deref().unwrap_or(username.as_str()))?;
            let hash = auth::hash_password(&password)?;
            let user = users::create_user(&mut conn, &username, &display_name, &hash, db::now())?;
            admin::make_admin(&mut conn, &user, "create_admin")?;
            println!(
                "created administrator {} (id {})",
                username.as_str(),
                user.id
            );
        }
        AdminCommand::List => {
            let admins = admin::admins(&mut conn)?;
            if admins.is_empty() {
                println!("no administrators yet: chat-server admin create --username NAME");
            }
            for a in admins {
                let state = if a.disabled { "  (disabled)" } else { "" };
                println!("{:>6}  {:<32}  {}{state}", a.id, a.username, a.display_name);
            }
        }
    }
    Ok(())
}

/// From a prompt on a terminal (asked twice), else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password for the new administrator: ")?;
        let second = rpassword::prompt_password("Again: ")?;
        if first != second {
            bail!("the passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    Ok(password.strip_suffix('\r').unwrap_or(password).to_owned())
}

/// Words of the generated messages. Each message draws eight of `COMMON`; one in
/// `RARE_EVERY` also holds the rare words, so a benchmark can ask for frequent and rare terms
/// of 2, 3 and 8+ characters in both scripts.
const COMMON: &[&str] = &[
    "the",
    "meeting",
    "tomorrow",
    "server",
    "coffee",
    "okay",
    "see",
    "you",
    "later",
    "thanks",
    "대화",
    "회의",
    "내일",
    "서버",
    "커피",
    "감사합니다",
    "좋아요",
    "점심",
    "오늘",
    "확인",
];
const RARE: &str = "zebrafish 희귀종";
/// Prime, so the rare messages spread over every room count's rooms.
const RARE_EVERY: usize = 4_999;
/// Messages per group commit while seeding.
const SEED_BATCH: usize = 2_000;

pub fn seed(settings: &Settings, args: &SeedArgs) -> anyhow::Result<()> {
    use crate::domain::{messages, rooms};
    use shared::{ClientId, MessageBody};
    if args.users < 2 || args.rooms == 0 {
        bail!("seed needs at least 2 users and 1 room");
    }
    let db = Db::connect(
        &settings.database_url,
        &PoolOptions {
            max_size: 1,
            connection_timeout: Duration::from_secs(settings.db_timeout_secs),
        },
    )?;
    let mut conn = db.get_blocking()?;
    let started = std::time::Instant::now();
    // One hash for every generated account: Argon2 per user would dominate the seeding.
    let hash = auth::hash_password(&Password::parse(&args.password)?)?;
    let mut ids = Vec::with_capacity(args.users);
    for i in 0..args.users {
        let name = Username::parse(&format!("{}{i}", args.prefix))?;
        let display = DisplayName::parse(name.as_str())?;
        ids.push(users::create_user(&mut conn, &name, &display, &hash, db::now())?.id);
    }
    // Room k joins user k mod n with a partner at a distance that grows every n rooms, so
    // rooms are distinct pairs while there are pairs left.
    let n = ids.len();
    let mut room_ids = Vec::with_capacity(args.rooms);
    for k in 0..args.rooms {
        let distance = 1 + (k / n) % (n - 1);
        let (a, b) = (ids[k % n], ids[(k % n + distance) % n]);
        room_ids.push(rooms::get_or_create(&mut conn, a, b, db::now())?.0);
    }
    let mut sent = 0;
    while sent < args.messages {
        let batch: Vec<messages::SendRequest> = (sent..args.messages.min(sent + SEED_BATCH))
            .map(|m| {
                let room = &room_ids[m % room_ids.len()];
                let sender = if m % 2 == 0 {
                    room.user_lo
                } else {
                    room.user_hi
                };
                let mut words: Vec<&str> = (0..8)
                    .map(|w| COMMON[(m.wrapping_mul(2_654_435_761) >> (w * 3) ^ w) % COMMON.len()])
                    .collect();
                if m % RARE_EVERY == 0 {
                    words.push(RARE);
                }
                Ok(messages::SendRequest {
                    sender,
                    room_id: room.id,
                    body: MessageBody::parse(format!("{} #{m}", words.join(" ")))?,
                    client_id: ClientId::parse(format!("{}-{m}", args.prefix))?,
                    reply_to: None,
                    attachments: Vec::new(),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        for outcome in messages::store_batch(&mut conn, &batch, db::now())? {
            outcome?;
        }
        sent += batch.len();
    }
    println!(
        "{}",
        serde_json::json!({
            "users": args.users, "rooms": room_ids.len(), "messages": sent,
            "prefix": args.prefix, "rare_every": RARE_EVERY, "rare": RARE,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}
