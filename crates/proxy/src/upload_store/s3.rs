//! Uploads in an S3-compatible bucket (`UPLOAD_STORE=s3`), through `object_store`: for larger
//! deployments, where the database should not hold the files. Objects are `uploads/{name}`,
//! written as multipart uploads a part at a time and read by ranged GETs, so no upload is held
//! whole in memory (a failed one is aborted, so its parts are not left in the bucket); a video's
//! duration is the object's user metadata; the sweep lists the prefix and removes objects older
//! than `UPLOAD_MAX_AGE_MS`.

use faceswap_core::MediaType;
use futures_util::stream::FuturesUnordered;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, AttributeValue, Attributes, GetOptions, GetRange, ObjectStore, PutMultipartOptions,
    PutPayload,
};
use secrecy::ExposeSecret;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;

use super::{ByteStream, StoredFacts, UploadStoreError};

/// The size of one part of a multipart upload (S3's smallest but the last).
const PART_BYTES: usize = 5 << 20;

/// How many parts may be in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

/// The user metadata key of a video's duration in milliseconds.
const DURATION_KEY: &str = "duration-ms";

/// Reads `file` until `buf` is full or the file ends; how many bytes were read.
async fn read_full(file: &mut tokio::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read(&mut buf[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// The prefix of every upload's object.
const PREFIX: &str = "uploads";

/// The bucket's settings (`S3_BUCKET`, `S3_ENDPOINT`, `S3_REGION`, `S3_ACCESS_KEY_ID`,
/// `S3_SECRET_ACCESS_KEY`), declared with the proxy's other settings.
pub use crate::config::S3Settings;

/// The uploads of one bucket.
#[derive(Clone)]
pub struct S3Uploads {
    bucket: Arc<AmazonS3>,
    name: String,
    /// The objects' prefix: `uploads`, or `results` for kept results.
    prefix: &'static str,
}

impl std::fmt::Debug for S3Uploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Uploads")
            .field("bucket", &self.name)
            .finish_non_exhaustive()
    }
}

/// The prefix of kept results (`KEEP_RESULTS`), beside `uploads/`.
const RESULTS_PREFIX: &str = "results";

impl S3Uploads {
    /// The bucket `settings` name; an error without `S3_BUCKET`. Nothing is sent yet.
    pub fn new(settings: &S3Settings) -> Result<Self, UploadStoreError> {
        let bucket = settings.bucket.clone().ok_or(UploadStoreError::NoBucket)?;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&bucket)
            .with_region(&settings.region);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(id) = &settings.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose_secret());
        }
        Ok(Self {
            bucket: Arc::new(builder.build()?),
            name: bucket,
            prefix: PREFIX,
        })
    }

    /// The kept results of the same bucket (`KEEP_RESULTS`): objects `results/{name}`.
    pub fn results(&self) -> Self {
        Self {
            prefix: RESULTS_PREFIX,
            ..self.clone()
        }
    }

    fn object(&self, name: &str) -> ObjectPath {
        ObjectPath::from(format!("{}/{name}", self.prefix))
    }

    /// Stores what remains of `file` as the upload `name`, a part at a time, a video's duration
    /// in the object's user metadata (`x-amz-meta-duration-ms`, kept with the object and read
    /// by a HEAD). A failed upload is aborted, so no part is left behind (and billed).
    pub(super) async fn put(
        &self,
        name: &str,
        media: MediaType,
        duration_ms: Option<u64>,
        file: &mut tokio::fs::File,
    ) -> Result<(), UploadStoreError> {
        let mut attributes = Attributes::from_iter([(
            Attribute::ContentType,
            AttributeValue::from(media.content_type()),
        )]);
        if let Some(ms) = duration_ms {
            attributes.insert(
                Attribute::Metadata(DURATION_KEY.into()),
                AttributeValue::from(ms.to_string()),
            );
        }
        let opts = PutMultipartOptions {
            attributes,
            ..PutMultipartOptions::default()
        };
        let mut upload = self
            .bucket
            .put_multipart_opts(&self.object(name), opts)
            .await?;
        let written: Result<(), UploadStoreError> = async {
            let mut in_flight = FuturesUnordered::new();
            let mut buf = vec![0u8; PART_BYTES];
            loop {
                let n = read_full(file, &mut buf).await?;
                if n == 0 {
                    break;
                }
                in_flight.push(upload.put_part(PutPayload::from(buf[..n].to_vec())));
                if in_flight.len() >= PARTS_IN_FLIGHT {
                    in_flight.next().await.transpose()?;
                }
            }
            while let Some(part) = in_flight.next().await {
                part?;
            }
            upload.complete().await?;
            Ok(())
        }
        .await;
        if let Err(err) = written {
            if let Err(abort) = upload.abort().await {
                tracing::error!(error = %abort, "S3 multipart upload not aborted");
            }
            return Err(err);
        }
        Ok(())
    }

    /// The size, creation time and video duration of the upload `name`, if stored.
    pub(super) async fn meta(&self, name: &str) -> Result<Option<StoredFacts>, UploadStoreError> {
        let options = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        match self.bucket.get_opts(&self.object(name), options).await {
            Ok(found) => {
                let duration_ms = found
                    .attributes
                    .get(&Attribute::Metadata(DURATION_KEY.into()))
                    .and_then(|value| value.as_ref().parse::<u64>().ok());
                let meta = found.meta;
                Ok(Some((
                    meta.size,
                    meta.last_modified.timestamp_millis(),
                    duration_ms,
                )))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// The bytes of `range` of the upload `name`.
    pub(super) async fn read(
        &self,
        name: &str,
        range: Range<u64>,
    ) -> Result<ByteStream, UploadStoreError> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let answer = self.bucket.get_opts(&self.object(name), options).await?;
        Ok(answer.into_stream().map_err(std::io::Error::other).boxed())
    }

    /// Removes the uploads stored more than `max_age` ago; returns how many.
    pub(super) async fn remove_older_than(
        &self,
        max_age: Duration,
    ) -> Result<u64, UploadStoreError> {
        let age = i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        let cutoff = crate::routes::now_ms().saturating_sub(age);
        let prefix = ObjectPath::from(self.prefix);
        let mut listing = self.bucket.list(Some(&prefix));
        let mut removed = 0;
        while let Some(meta) = listing.next().await {
            let meta = meta?;
            if meta.last_modified.timestamp_millis() < cutoff {
                self.bucket.delete(&meta.location).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
