//! Uploads (`POST /api/uploads?name=`, the raw bytes as the body) through `XMLHttpRequest`,
//! because `fetch` reports no upload progress; and the tray's jobs: one request per file,
//! cancel, retry, and the object URLs of image previews.

use super::api::{self, Error};
use super::{config::api_base, session};
use crate::logic::attach::{admit, Failure, Tray, TrayAction, DEFAULT_LIMITS};
use shared::{Attachment, ErrorResponse, UploadLimits};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{File, ProgressEvent, Url, XmlHttpRequest};
use yew::UseReducerHandle;

thread_local! {
    /// `GET /api/uploads/limits`, fetched once per page load.
    static LIMITS: RefCell<Option<UploadLimits>> = const { RefCell::new(None) };
}

/// The server's limits (its defaults until it has answered once).
async fn limits() -> UploadLimits {
    if let Some(held) = LIMITS.with(|l| l.borrow().clone()) {
        return held;
    }
    match api::upload_limits().await {
        Ok(limits) => {
            LIMITS.with(|l| *l.borrow_mut() = Some(limits.clone()));
            limits
        }
        Err(_) => DEFAULT_LIMITS,
    }
}

/// One file's request and the callbacks it holds (dropped with it).
pub struct Job {
    file: File,
    /// The object URL of an image's preview, revoked with the job.
    preview: Option<String>,
    xhr: Option<XmlHttpRequest>,
    _callbacks: Vec<Closure<dyn FnMut(ProgressEvent)>>,
}

impl Job {
    fn end(mut self) {
        self.abort();
        if let Some(url) = &self.preview {
            let _ = Url::revoke_object_url(url);
        }
    }

    fn abort(&mut self) {
        if let Some(xhr) = self.xhr.take() {
            xhr.set_onload(None);
            xhr.set_onerror(None);
            // Aborting a finished request does nothing.
            let _ = xhr.abort();
        }
    }
}

/// The running and finished uploads of a tray, by key. Kept beside the tray (not in it): a
/// callback holds the tray as it was when it was made, these are always current.
#[derive(Default)]
pub struct Jobs {
    next: u32,
    map: HashMap<u32, Job>,
}

/// The tray of one conversation with its uploads; cloned into every callback.
#[derive(Clone)]
pub struct Uploader {
    pub tray: UseReducerHandle<Tray>,
    jobs: Rc<RefCell<Jobs>>,
}

impl PartialEq for Uploader {
    fn eq(&self, other: &Self) -> bool {
        self.tray == other.tray && Rc::ptr_eq(&self.jobs, &other.jobs)
    }
}

impl Uploader {
    pub fn new(tray: UseReducerHandle<Tray>, jobs: Rc<RefCell<Jobs>>) -> Self {
        Self { tray, jobs }
    }

    /// Checks the files against the server's limits and starts uploading those that pass.
    pub fn add(&self, files: Vec<File>) {
        if files.is_empty() {
            return;
        }
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let limits = limits().await;
            let offered: Vec<(String, u64)> =
                files.iter().map(|f| (f.name(), f.size() as u64)).collect();
            let held = this.jobs.borrow().map.len();
            let (admitted, error) = admit(&offered, held, &limits);
            this.tray.dispatch(TrayAction::Error(error));
            let mut added = Vec::new();
            for i in admitted {
                let file = files[i].clone();
                let preview = file
                    .type_()
                    .starts_with("image/")
                    .then(|| Url::create_object_url_with_blob(&file).ok())
                    .flatten();
                let mut jobs = this.jobs.borrow_mut();
                let key = jobs.next;
                jobs.next += 1;
                added.push((key, file.name(), file.size() as u64, preview.clone()));
                jobs.map.insert(
                    key,
                    Job {
                        file,
                        preview,
                        xhr: None,
                        _callbacks: Vec::new(),
                    },
                );
            }
            let keys: Vec<u32> = added.iter().map(|a| a.0).collect();
            this.tray.dispatch(TrayAction::Add(added));
            for key in keys {
                this.start(key);
            }
        });
    }

    /// Sends the file of `key` (again, after a failure).
    pub fn start(&self, key: u32) {
        let mut jobs = self.jobs.borrow_mut();
        let Some(job) = jobs.map.get_mut(&key) else {
            return;
        };
        job.abort();
        self.tray.dispatch(TrayAction::Restart(key));
        match self.request(key, &job.file) {
            Ok((xhr, callbacks)) => {
                job.xhr = Some(xhr);
                job._callbacks = callbacks;
            }
            Err(why) => self.tray.dispatch(TrayAction::Failed {
                key,
                failure: Failure::retryable(why),
            }),
        }
    }

    #[allow(clippy::type_complexity)]
    fn request(
        &self,
        key: u32,
        file: &File,
    ) -> Result<(XmlHttpRequest, Vec<Closure<dyn FnMut(ProgressEvent)>>), String> {
        let failed = |_| "Could not start the upload.".to_owned();
        let xhr = XmlHttpRequest::new().map_err(failed)?;
        let name = String::from(js_sys::encode_uri_component(&file.name()));
        xhr.open("POST", &format!("{}/uploads?name={name}", api_base()))
            .map_err(failed)?;
        if let Some(token) = session::token() {
            xhr.set_request_header("Authorization", &format!("Bearer {token}"))
                .map_err(failed)?;
        }
        let declared = file.type_();
        let content_type = if declared.is_empty() {
            "application/octet-stream"
        } else {
            &declared
        };
        xhr.set_request_header("Content-Type", content_type)
            .map_err(failed)?;
        xhr.set_request_header("Accept", "application/json")
            .map_err(failed)?;

        let tray = self.tray.clone();
        let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
            if e.length_computable() {
                tray.dispatch(TrayAction::Progress {
                    key,
                    sent: e.loaded() as u64,
                    total: e.total() as u64,
                });
            }
        });
        let (tray, done) = (self.tray.clone(), xhr.clone());
        let on_load = Closure::<dyn FnMut(ProgressEvent)>::new(move |_| {
            tray.dispatch(match answer(&done) {
                Ok(attachment) => TrayAction::Done { key, attachment },
                Err(failure) => TrayAction::Failed { key, failure },
            });
        });
        let tray = self.tray.clone();
        let on_error = Closure::<dyn FnMut(ProgressEvent)>::new(move |_| {
            tray.dispatch(TrayAction::Failed {
                key,
                failure: Failure::retryable(Error::Network.to_string()),
            });
        });
        xhr.upload()
            .map_err(failed)?
            .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
        xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        xhr.send_with_opt_blob(Some(file)).map_err(failed)?;
        Ok((xhr, vec![on_progress, on_load, on_error]))
    }

    /// Cancels (while uploading) or takes out (once up or failed) one file.
    pub fn remove(&self, key: u32) {
        if let Some(job) = self.jobs.borrow_mut().map.remove(&key) {
            job.end();
        }
        self.tray.dispatch(TrayAction::Remove(key));
    }

    /// Empties the tray: after the message went out, or when the conversation changes
    /// (uploads still running are cancelled).
    pub fn clear(&self) {
        for (_, job) in self.jobs.borrow_mut().map.drain() {
            job.end();
        }
        self.tray.dispatch(TrayAction::Clear);
    }
}

/// A finished request: 201 with the attachment, or the server's reason for refusing.
fn answer(xhr: &XmlHttpRequest) -> Result<Attachment, Failure> {
    let status = xhr.status().unwrap_or(0);
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    let message = || {
        serde_json::from_str::<ErrorResponse>(&text)
            .map(|r| r.error.message)
            .ok()
    };
    match status {
        200 | 201 => serde_json::from_str(&text)
            .map_err(|_| Failure::retryable("The server sent an unexpected answer.")),
        // Short: the tray's card has room for two lines.
        413 => Err(Failure::not_retryable("Too large for this server.")),
        // An empty file or a name the server refuses: the same file would be refused again.
        422 => {
            Err(Failure::not_retryable(message().unwrap_or_else(|| {
                "The server refused this file.".to_owned()
            })))
        }
        429 => {
            let wait = xhr
                .get_response_header("Retry-After")
                .ok()
                .flatten()
                .and_then(|secs| secs.trim().parse::<u64>().ok());
            Err(Failure::retryable(too_many_uploads(wait)))
        }
        401 => Err(Failure::retryable(message().unwrap_or_else(|| {
            "Your session has ended. Sign in again.".to_owned()
        }))),
        status => {
            Err(Failure::retryable(message().unwrap_or_else(|| {
                format!("The server answered {status}.")
            })))
        }
    }
}

/// What a 429 says: when to retry, from `Retry-After` when the answer has one.
fn too_many_uploads(retry_after_secs: Option<u64>) -> String {
    match retry_after_secs {
        Some(secs) if secs > 0 => {
            format!("Too many uploads. Retry in {secs} s.")
        }
        _ => "Too many uploads. Retry in a minute.".to_owned(),
    }
}
