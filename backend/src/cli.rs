//! `chat-server admin …`: administrator accounts from the command line.

use crate::config::{AdminCommand, Settings};
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
