//! `POST /api/uploads` (the raw file as the body) and the capability links that serve it.

use super::extract::AuthUser;
use crate::error::AppError;
use crate::state::AppState;
use crate::usecases::uploads::{self, LinkParts, Wanted};
use actix_files::HttpRange;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use shared::{ApiError, ErrorCode, ErrorResponse, UploadLimits, MAX_ATTACHMENTS_PER_MESSAGE};

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    pub name: String,
}

pub async fn upload(
    state: web::Data<AppState>,
    caller: AuthUser,
    req: HttpRequest,
    query: web::Query<UploadQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let attachment =
        uploads::upload(&state, caller.id(), query.into_inner().name, declared, body).await?;
    Ok(HttpResponse::Created().json(attachment))
}

/// The limits a client checks before it uploads (so a too-large file is refused at once).
pub async fn limits(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(UploadLimits {
        max_bytes: state.uploads.max_bytes,
        per_minute: state.settings.uploads_per_minute,
        max_attachments_per_message: MAX_ATTACHMENTS_PER_MESSAGE,
    })
}

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    pub exp: i64,
    #[serde(default)]
    pub sig: String,
    #[serde(default, rename = "for")]
    pub audience: Option<String>,
}

pub async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, variant) = path.into_inner();
    let LinkQuery { exp, sig, audience } = query.into_inner();
    let link = LinkParts {
        variant,
        exp,
        sig,
        audience,
    };
    let range_header = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let wanted = move |size: u64| match range_header {
        None => Wanted::All,
        Some(raw) => match HttpRange::parse(&raw, size) {
            // One range is served as asked; several are answered whole (allowed by RFC 9110).
            Ok(ranges) => match ranges.as_slice() {
                [one] => Wanted::Range(one.start..one.start + one.length),
                _ => Wanted::All,
            },
            Err(_) => Wanted::Unsatisfiable { size },
        },
    };
    let opened = match uploads::open_link(&state, id, link, wanted).await? {
        Ok(opened) => opened,
        Err(size) => return Ok(unsatisfiable(size)),
    };
    let served_type = opened.served_type().to_owned();
    let disposition = ContentDisposition {
        disposition: if opened.inline() {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters: vec![
            DispositionParam::Filename(ascii_fallback(&opened.row.name)),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: opened.row.name.clone().into_bytes(),
            }),
        ],
    };
    let fetched = opened.fetched;
    let length = fetched.range.end - fetched.range.start;
    let mut answer = if opened.partial {
        let mut partial = HttpResponse::PartialContent();
        partial.insert_header((
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                fetched.range.start,
                fetched.range.end.saturating_sub(1),
                fetched.size
            ),
        ));
        partial
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::CONTENT_TYPE, served_type))
        .insert_header(disposition)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        // Nothing served here may run as a page of this origin, even if opened directly.
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
        ))
        // The bytes behind a link never change; the link itself expires.
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600, immutable"))
        .no_chunking(length);
    let body = fetched
        .bytes
        .map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())));
    Ok(answer.streaming(body))
}

/// The name with everything outside printable ASCII (and quotes) replaced, for clients that
/// do not read `filename*`.
fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '%' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn unsatisfiable(size: u64) -> HttpResponse {
    HttpResponse::build(StatusCode::RANGE_NOT_SATISFIABLE)
        .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
        .json(ErrorResponse {
            error: ApiError {
                code: ErrorCode::BadRequest,
                message: "the requested range is outside the file".into(),
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_fallback_keeps_plain_names_and_masks_the_rest() {
        assert_eq!(ascii_fallback("report 2026.pdf"), "report 2026.pdf");
        assert_eq!(ascii_fallback("été \"x\".png"), "_t_ _x_.png");
    }
}
