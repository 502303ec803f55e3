//! Builds the application from settings: storage, fan-out, routes, middleware, listener.

use crate::config::Settings;
use crate::db::{Db, PoolOptions};
use crate::error::AppError;
use crate::fanout::{FanOut, LocalHub, RedisHub};
use crate::hashing::HashPool;
use crate::limits::{LoginLimits, PerKeyRate};
use crate::metrics::Metrics;
use crate::origin::OriginPolicy;
use crate::routes::{account, admin, auth, ops, rooms, spa, uploads, users};
use crate::state::AppState;
use crate::uploads::Uploads;
use crate::writer::MessageWriter;
use crate::ws;
use actix_cors::Cors;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::{error, web, App, HttpServer, ResponseError};
use anyhow::Context;
use futures_util::future::LocalBoxFuture;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    pub fn build(settings: Settings) -> anyhow::Result<Application> {
        settings.validate()?;
        let db = Db::connect(
            &settings.database_url,
            &PoolOptions {
                max_size: settings.db_pool_size,
                connection_timeout: Duration::from_secs(settings.db_timeout_secs),
            },
        )?;
        // Messages stored before search existed become findable (a no-op once done).
        let indexed = crate::domain::search::backfill(&mut *db.get_blocking()?)?;
        if indexed > 0 {
            tracing::info!(messages = indexed, "indexed earlier messages for search");
        }
        let metrics = Arc::new(Metrics::default());
        let local = LocalHub::new(settings.ws_queue, metrics.clone());
        let hub: Arc<dyn FanOut> = match &settings.redis_url {
            Some(url) => RedisHub::start(
                url,
                &settings.redis_prefix,
                local,
                settings.reconnect_spread(),
            )?,
            None => Arc::new(local),
        };
        let writer = MessageWriter::start(
            db.clone(),
            hub.clone(),
            metrics.clone(),
            settings.write_queue,
            settings.writer_lanes(db.backend()),
        )?;
        let state = web::Data::new(AppState {
            password_hashing: HashPool::start(settings.hash_permits())?,
            writer,
            hub,
            origins: OriginPolicy::new(&settings.allowed_origins),
            login_failures: LoginLimits::new(
                settings.login_failures_per_minute,
                settings.login_failures_per_address_per_minute,
            ),
            send_limiter: PerKeyRate::new(settings.messages_per_second, settings.message_burst),
            typing_limiter: PerKeyRate::new(2.0, 10),
            metrics,
            uploads: Uploads::new(&settings)?,
            db,
            settings,
        });
        sweep_limits(&state)?;
        sweep_uploads(&state)?;
        let listener = TcpListener::bind(&state.settings.bind)
            .with_context(|| format!("binding {}", state.settings.bind))?;
        limit_unsent_data(&listener, state.settings.kernel_send_timeout())?;
        let port = listener.local_addr()?.port();
        let workers = match state.settings.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            let state = app_state.clone();
            let max_body = state.settings.max_body_bytes;
            let static_dir = state.settings.static_dir.clone();
            let metrics_state = state.clone();
            let cors_state = state.clone();
            let cors = cors(&state);
            let spa_index = Some(static_dir.join("index.html")).filter(|p| p.is_file());
            let mut app = App::new()
                .app_data(state)
                .app_data(json_config(max_body))
                .app_data(web::QueryConfig::default().error_handler(|err, _| {
                    AppError::BadRequest(format!("invalid query: {err}")).into()
                }))
                .app_data(web::PathConfig::default().error_handler(|_, _| {
                    AppError::NotFound("no such resource".into()).into()
                }))
                .wrap(cors)
                .wrap_fn(move |req, srv| refuse_foreign_origins(cors_state.clone(), req, srv))
                .wrap_fn(move |req, srv| {
                    let metrics = metrics_state.metrics.clone();
                    let started = Instant::now();
                    let method = req.method().clone();
                    let path = req.path().to_owned();
                    let client = crate::origin::client_ip(
                        req.request(),
                        &metrics_state.settings.trusted_proxies,
                    )
                    .map(|ip| ip.to_string())
                    .unwrap_or_default();
                    let fut = actix_web::dev::Service::call(srv, req);
                    let spa_index = spa_index.clone();
                    async move {
                        let mut res = fut.await?;
                        let status = res.status().as_u16();
                        if status == 200 && !path.starts_with("/api/") {
                            if let Some(policy) = spa::cache_control(&path) {
                                res.headers_mut().insert(
                                    header::CACHE_CONTROL,
                                    header::HeaderValue::from_static(policy),
                                );
                            }
                            let html = res
                                .headers()
                                .get(header::CONTENT_TYPE)
                                .and_then(|v| v.to_str().ok())
                                .is_some_and(|v| v.starts_with("text/html"));
                            if let (true, Some(index)) = (html, &spa_index) {
                                for (name, value) in spa::document_headers(index) {
                                    res.headers_mut().insert(name, value);
                                }
                            }
                        }
                        let elapsed = started.elapsed();
                        metrics.observe_request(elapsed, status);
                        tracing::info!(%method, %path, status, %client, elapsed_ms = elapsed.as_secs_f64() * 1e3, "request");
                        Ok(res)
                    }
                })
                .service(api_scope())
                .route("/ws", web::get().to(ws::session::connect))
                .route("/metrics", web::get().to(ops::metrics));
            if static_dir.join("index.html").is_file() {
                let index = static_dir.join("index.html");
                app = app
                    .app_data(web::Data::new(spa::StaticDir(static_dir.clone())))
                    .service(
                        web::resource("/{name:[^/]+\\.(?:wasm|js|mjs|css|tsv)}")
                            .route(web::get().to(spa::precompressed))
                            .route(web::head().to(spa::precompressed)),
                    )
                    .service(
                    actix_files::Files::new("/", &static_dir)
                        .index_file("index.html")
                        .default_handler(web::to(move |req: actix_web::HttpRequest| {
                            let response = spa::fallback(&req, &index);
                            async move { response }
                        })),
                );
            } else {
                app = app
                    .route("/", web::get().to(spa::placeholder))
                    .default_service(web::to(|| async {
                        AppError::NotFound("no such page".into()).error_response()
                    }));
            }
            app
        })
        .workers(workers)
        .shutdown_timeout(10)
        // Signals are handled in `shutdown_on_signals`, which closes sockets first.
        .disable_signals()
        .listen(listener)?
        .run();
        tracing::info!(
            port,
            db = state.db.backend(),
            static_dir = %state.settings.static_dir.display(),
            "chat-server listening on {}",
            state.settings.bind.replace(":0", &format!(":{port}"))
        );
        Ok(Application {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// On SIGTERM or SIGINT: close every websocket with 1001 (clients reconnect, through a
    /// proxy to another instance), stop accepting, let in-flight requests finish, then exit.
    pub fn shutdown_on_signals(&self) {
        let handle = self.server.handle();
        let state = self.state.clone();
        actix_web::rt::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down: closing websockets, finishing in-flight requests");
            state
                .hub
                .close_all(actix_ws::CloseCode::Away, "server shutting down");
            // Give the socket tasks a moment to send their close frames.
            actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            handle.stop(true).await;
        });
    }
}

/// A connection whose peer takes nothing of what is sent to it for `timeout` (unacknowledged
/// data, or a zero receive window) is aborted by the kernel. Without it a reader that stops
/// reading keeps its connection, its buffers and its file descriptor for as long as it likes:
/// actix-http waits for the socket to take the rest of a response, with no deadline. Set on
/// the listening socket, which every accepted connection inherits it from (Linux), so it
/// costs nothing per connection.
fn limit_unsent_data(listener: &TcpListener, timeout: Duration) -> anyhow::Result<()> {
    socket2::SockRef::from(listener)
        .set_tcp_user_timeout(Some(timeout))
        .context("setting TCP_USER_TIMEOUT on the listening socket")
}

/// How often the rate limits forget the keys that no longer limit anybody.
const LIMIT_SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// Sweeps the rate limits on a thread of their own until the application is dropped, so
/// memory stays bounded by the keys seen in the last minute and no request pays for it.
fn sweep_limits(state: &web::Data<AppState>) -> anyhow::Result<()> {
    let state = Arc::downgrade(&state.clone().into_inner());
    std::thread::Builder::new()
        .name("limit-sweeper".into())
        .spawn(move || loop {
            std::thread::sleep(LIMIT_SWEEP_INTERVAL);
            let Some(state) = state.upgrade() else { return };
            state.send_limiter.sweep();
            state.typing_limiter.sweep();
            state.login_failures.sweep();
            state.uploads.limiter.sweep();
        })?;
    Ok(())
}

/// Sweeps unsent uploads and unnamed objects on a thread of its own: its runtime runs for as
/// long as the thread, so the store client's connections made here are always driven.
fn sweep_uploads(state: &web::Data<AppState>) -> anyhow::Result<()> {
    let interval = Duration::from_secs(state.settings.upload_sweep_secs);
    let orphan_after = Duration::from_secs(state.settings.upload_orphan_secs);
    let state = Arc::downgrade(&state.clone().into_inner());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("upload-sweeper".into())
        .spawn(move || {
            runtime.block_on(async move {
                loop {
                    tokio::time::sleep(interval).await;
                    let Some(state) = state.upgrade() else { return };
                    match crate::usecases::uploads::sweep(&state, orphan_after).await {
                        Ok(0) => {}
                        Ok(deleted) => tracing::info!(deleted, "swept unused uploads"),
                        Err(e) => tracing::warn!(error = %e, "the upload sweep failed"),
                    }
                }
            })
        })?;
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            tracing::warn!("cannot listen for signals; falling back to Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn api_scope() -> actix_web::Scope {
    web::scope("/api")
        .route("/health", web::get().to(ops::health))
        .route("/auth/register", web::post().to(auth::register))
        .route("/auth/login", web::post().to(auth::login))
        .route("/auth/logout", web::post().to(auth::logout))
        .route("/me", web::get().to(auth::me))
        .route("/me", web::patch().to(account::update_me))
        .route("/me/password", web::post().to(account::change_password))
        .route("/me/sessions", web::get().to(account::sessions))
        .route(
            "/me/sessions",
            web::delete().to(account::end_other_sessions),
        )
        .route("/me/sessions/{id}", web::delete().to(account::end_session))
        .route("/me/blocks", web::get().to(account::blocks))
        .route("/me/export", web::get().to(account::export))
        .route("/users/{id}/block", web::put().to(account::block))
        .route("/users/{id}/block", web::delete().to(account::unblock))
        .route("/rooms/{id}", web::patch().to(account::update_room))
        .route("/users", web::get().to(users::search_users))
        .route("/rooms", web::get().to(rooms::list_rooms))
        .route("/rooms", web::post().to(rooms::create_room))
        .route("/rooms/{id}", web::get().to(rooms::get_room))
        .route("/rooms/{id}/messages", web::get().to(rooms::list_messages))
        .route("/rooms/{id}/messages", web::post().to(rooms::send_message))
        .route("/rooms/{id}/read", web::post().to(rooms::mark_read))
        .route("/search", web::get().to(rooms::search))
        .route("/uploads", web::post().to(uploads::upload))
        .route("/uploads/limits", web::get().to(uploads::limits))
        .route(
            "/attachments/{id}/{variant}",
            web::get().to(uploads::download),
        )
        .route(
            "/rooms/{id}/messages/{seq}",
            web::get().to(rooms::get_message),
        )
        .route(
            "/rooms/{id}/messages/{seq}",
            web::patch().to(rooms::edit_message),
        )
        .route(
            "/rooms/{id}/messages/{seq}",
            web::delete().to(rooms::delete_message),
        )
        .route(
            "/rooms/{id}/messages/{seq}/reactions/{emoji}",
            web::put().to(rooms::add_reaction),
        )
        .route(
            "/rooms/{id}/messages/{seq}/reactions/{emoji}",
            web::delete().to(rooms::remove_reaction),
        )
        .route("/admin/users", web::get().to(admin::list_users))
        .route(
            "/admin/users/{id}/disable",
            web::post().to(admin::disable_user),
        )
        .route(
            "/admin/users/{id}/enable",
            web::post().to(admin::enable_user),
        )
        .route("/admin/rooms", web::get().to(admin::list_rooms))
        .route(
            "/admin/rooms/{id}/messages",
            web::get().to(admin::room_messages),
        )
        .route(
            "/admin/messages/{id}",
            web::delete().to(admin::delete_message),
        )
        .route(
            "/admin/messages/{id}/revisions",
            web::get().to(admin::message_revisions),
        )
        .route("/admin/audit", web::get().to(admin::audit))
        // Unknown API paths and wrong methods answer JSON, never the SPA.
        .default_service(web::to(|req: actix_web::HttpRequest| async move {
            AppError::NotFound(format!("no API endpoint {} {}", req.method(), req.path()))
                .error_response()
        }))
}

fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .content_type_required(false)
        .error_handler(|err, _| {
            let app_err = match &err {
                error::JsonPayloadError::Overflow { .. }
                | error::JsonPayloadError::OverflowKnownLength { .. } => {
                    AppError::PayloadTooLarge("request body too large".into())
                }
                error::JsonPayloadError::Deserialize(e) => {
                    AppError::BadRequest(format!("invalid JSON body: {e}"))
                }
                other => AppError::BadRequest(format!("invalid request body: {other}")),
            };
            app_err.into()
        })
}

/// CORS for the configured cross-origin clients only (`CHAT_ALLOWED_ORIGINS`): the exact
/// origin is echoed with credentials, and every answer varies by `Origin`.
fn cors(state: &web::Data<AppState>) -> Cors {
    let policy = state.clone();
    Cors::default()
        .allowed_origin_fn(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|o| policy.origins.is_cross_origin_allowed(o))
        })
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        // A page on another origin can only read what is exposed: how long a 429 lasts.
        .expose_headers([header::RETRY_AFTER])
        .supports_credentials()
        .max_age(600)
}

/// What actix-cors leaves to us: a preflight from any other origin is refused with the
/// contract's error shape (actix-cors answers a plain-text 400), and an answer that grants
/// no origin claims no credentials (actix-cors adds `Allow-Credentials` to every answer).
fn refuse_foreign_origins<S, B>(
    state: web::Data<AppState>,
    req: ServiceRequest,
    srv: &S,
) -> LocalBoxFuture<'static, Result<ServiceResponse<EitherBody<B>>, actix_web::Error>>
where
    S: actix_web::dev::Service<
        ServiceRequest,
        Response = ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let is_preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let foreign = !req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| state.origins.is_cross_origin_allowed(o));
    if is_preflight && foreign {
        let response = AppError::Forbidden("origin not allowed".into()).error_response();
        let (req, _) = req.into_parts();
        let mut refused = ServiceResponse::new(req, response).map_into_right_body();
        refused
            .headers_mut()
            .insert(header::VARY, header::HeaderValue::from_static("Origin"));
        return Box::pin(std::future::ready(Ok(refused)));
    }
    let fut = srv.call(req);
    Box::pin(async move {
        let mut res = fut.await?.map_into_left_body();
        if !res
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        {
            res.headers_mut()
                .remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        }
        Ok(res)
    })
}
