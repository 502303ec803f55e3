//! Where attachment bytes live: a folder or an S3-compatible bucket, behind `object_store`
//! (its local and AWS backends). Every write is streamed and becomes visible whole or not at
//! all: the local backend writes a staging file and renames it, S3 completes a multipart
//! upload.

use anyhow::{bail, Context};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::ops::Range;
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// S3's smallest part (all but the last); also what one upload holds in memory at most.
const PART_BYTES: usize = 5 * 1024 * 1024;

pub struct Store {
    inner: Arc<dyn ObjectStore>,
    /// Under which prefix this deployment's objects live (the `s3://BUCKET/PREFIX` part).
    prefix: String,
    description: String,
}

/// One stored object's bytes (or a range of them), as a stream.
pub struct Fetched {
    pub size: u64,
    pub range: Range<u64>,
    pub bytes: futures_util::stream::BoxStream<'static, object_store::Result<Bytes>>,
}

impl Store {
    /// `file://PATH` (created when missing) or `s3://BUCKET[/PREFIX]` with credentials and
    /// endpoint from the usual `AWS_*` variables.
    pub fn open(url: &str) -> anyhow::Result<Store> {
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                bail!("CHAT_UPLOAD_STORE: give the folder, e.g. file://data/uploads");
            }
            std::fs::create_dir_all(path)
                .with_context(|| format!("CHAT_UPLOAD_STORE: cannot create the folder {path}"))?;
            let local = LocalFileSystem::new_with_prefix(path)
                .with_context(|| format!("CHAT_UPLOAD_STORE: cannot use the folder {path}"))?;
            return Ok(Store {
                inner: Arc::new(local),
                prefix: String::new(),
                description: url.to_owned(),
            });
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!("CHAT_UPLOAD_STORE: give the bucket, e.g. s3://my-bucket/uploads");
            }
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
            // A local S3-compatible server (MinIO, moto) usually speaks plain HTTP.
            let endpoint = std::env::var("AWS_ENDPOINT_URL")
                .or_else(|_| std::env::var("AWS_ENDPOINT"))
                .unwrap_or_default();
            if endpoint.starts_with("http://") {
                builder = builder.with_allow_http(true);
            }
            let s3 = builder
                .build()
                .context("CHAT_UPLOAD_STORE: the S3 settings (AWS_*) are incomplete")?;
            return Ok(Store {
                inner: Arc::new(s3),
                prefix: prefix.trim_matches('/').to_owned(),
                description: url.to_owned(),
            });
        }
        bail!("CHAT_UPLOAD_STORE must be file://PATH or s3://BUCKET/PREFIX, not {url:?}")
    }

    pub fn describe(&self) -> &str {
        &self.description
    }

    fn path(&self, key: &str) -> StorePath {
        if self.prefix.is_empty() {
            StorePath::from(key)
        } else {
            StorePath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// Streams a local file into the store under `key`.
    pub async fn put_file(&self, key: &str, file: &std::path::Path) -> anyhow::Result<()> {
        let mut source = tokio::fs::File::open(file).await?;
        let upload = self.inner.put_multipart(&self.path(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let read = match source.read(&mut buffer).await {
                Ok(0) => break,
                Ok(read) => read,
                Err(e) => {
                    writer.abort().await.ok();
                    return Err(e.into());
                }
            };
            // Bounded memory: at most a couple of parts in flight.
            writer.wait_for_capacity(2).await?;
            writer.write(&buffer[..read]);
        }
        writer.finish().await?;
        Ok(())
    }

    pub async fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.inner
            .put(&self.path(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// The object's bytes, or the `range` of them.
    pub async fn get(&self, key: &str, range: Option<Range<u64>>) -> anyhow::Result<Fetched> {
        let options = GetOptions::new().with_range(range.map(GetRange::Bounded));
        let found = self.inner.get_opts(&self.path(key), options).await?;
        Ok(Fetched {
            size: found.meta.size,
            range: found.range.clone(),
            bytes: found.into_stream(),
        })
    }

    pub async fn size_of(&self, key: &str) -> anyhow::Result<u64> {
        Ok(self.inner.head(&self.path(key)).await?.size)
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.inner.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Keys of the objects last written before `cutoff`.
    pub async fn keys_older_than(&self, cutoff: DateTime<Utc>) -> anyhow::Result<Vec<String>> {
        let prefix = (!self.prefix.is_empty()).then(|| StorePath::from(self.prefix.as_str()));
        let mut listing = self.inner.list(prefix.as_ref());
        let mut keys = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if meta.last_modified >= cutoff {
                continue;
            }
            let full = meta.location.to_string();
            let key = match self.prefix.as_str() {
                "" => full,
                prefix => full
                    .strip_prefix(prefix)
                    .map(|k| k.trim_start_matches('/').to_owned())
                    .unwrap_or(full),
            };
            keys.push(key);
        }
        Ok(keys)
    }
}
