//! Blobs in an S3 bucket, on AWS or any S3-compatible server (MinIO, s3s, Ceph).

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use secrecy::ExposeSecret;

use super::{PresignedUpload, StorageError};
use crate::config::StorageConfig;

/// A blob store in one S3 bucket, under an optional key prefix.
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
    prefix: String,
}

impl S3BlobStore {
    /// Builds the client. Credentials come from the config when given, else from the AWS chain.
    pub async fn from_config(config: &StorageConfig) -> Result<S3BlobStore, StorageError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            // Bounded so that a dead endpoint fails a health check quickly instead of hanging it.
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3));
        if let (Some(access_key_id), Some(secret_access_key)) = (&config.access_key_id, &config.secret_access_key) {
            loader = loader.credentials_provider(Credentials::new(
                access_key_id.expose_secret(),
                secret_access_key.expose_secret(),
                None,
                None,
                "obscura-config",
            ));
        }
        let shared = loader.load().await;
        let mut builder = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(config.force_path_style)
            // Checksums only where S3 requires them: S3-compatible servers differ in
            // which flexible-checksum headers they accept, and presigned URLs must not
            // carry headers the client cannot reproduce.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if !config.endpoint.is_empty() {
            builder = builder.endpoint_url(&config.endpoint);
        }
        let prefix = config.prefix.trim_matches('/').to_owned();
        Ok(S3BlobStore {
            client: Client::from_conf(builder.build()),
            bucket: config.bucket.clone(),
            prefix,
        })
    }

    /// The bucket this store writes to.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key in the bucket, with the prefix applied.
    pub fn object_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    pub(super) async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|error| backend("put", key, error))?;
        Ok(())
    }

    pub(super) async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
            .map_err(|error| {
                if error.as_service_error().is_some_and(|service| service.is_no_such_key()) {
                    StorageError::NotFound { key: key.to_owned() }
                } else {
                    backend("get", key, error)
                }
            })?;
        let body = output
            .body
            .collect()
            .await
            .map_err(|error| backend("get", key, error))?;
        Ok(body.into_bytes())
    }

    pub(super) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
            .map_err(|error| backend("delete", key, error))?;
        Ok(())
    }

    pub(super) async fn check(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|error| backend("check", &self.bucket, error))?;
        Ok(())
    }

    pub(super) async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: Option<u64>,
        expires_in: Duration,
    ) -> Result<PresignedUpload, StorageError> {
        let presigning = PresigningConfig::expires_in(expires_in)
            .map_err(|error| StorageError::Config(format!("presign lifetime: {error}")))?;
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .content_type(content_type);
        if let Some(length) = content_length {
            request = request.content_length(i64::try_from(length).unwrap_or(i64::MAX));
        }
        let request = request
            .presigned(presigning)
            .await
            .map_err(|error| backend("presign", key, error))?;
        Ok(PresignedUpload {
            url: request.uri().to_owned(),
            method: request.method().to_owned(),
            headers: request
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            expires_in,
        })
    }
}

/// A blob being written: nothing is sent until a part is full, and a blob that never fills
/// one goes in a single PUT.
pub(super) struct S3Write {
    client: Client,
    bucket: String,
    object_key: String,
    key: String,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
    done: bool,
}

impl S3BlobStore {
    pub(super) fn writer(&self, key: &str) -> S3Write {
        S3Write {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            object_key: self.object_key(key),
            key: key.to_owned(),
            upload_id: None,
            parts: Vec::new(),
            done: false,
        }
    }
}

impl S3Write {
    pub(super) async fn send_part(&mut self, part: Bytes) -> Result<(), StorageError> {
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let created = self
                    .client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&self.object_key)
                    .send()
                    .await
                    .map_err(|error| backend("put", &self.key, error))?;
                let id = created.upload_id().unwrap_or_default().to_owned();
                self.upload_id = Some(id.clone());
                id
            }
        };
        let part_number = i32::try_from(self.parts.len() + 1).unwrap_or(i32::MAX);
        let sent = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.object_key)
            .upload_id(&upload_id)
            .part_number(part_number)
            .body(ByteStream::from(part))
            .send()
            .await
            .map_err(|error| backend("put", &self.key, error))?;
        self.parts.push(
            CompletedPart::builder()
                .set_e_tag(sent.e_tag().map(str::to_owned))
                .part_number(part_number)
                .build(),
        );
        Ok(())
    }

    pub(super) async fn finish(mut self, last: Bytes) -> Result<(), StorageError> {
        if self.upload_id.is_none() {
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.object_key)
                .body(ByteStream::from(last))
                .send()
                .await
                .map_err(|error| backend("put", &self.key, error))?;
            self.done = true;
            return Ok(());
        }
        if !last.is_empty() {
            self.send_part(last).await?;
        }
        let upload_id = self.upload_id.clone().unwrap_or_default();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.object_key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(std::mem::take(&mut self.parts)))
                    .build(),
            )
            .send()
            .await
            .map_err(|error| backend("put", &self.key, error))?;
        self.done = true;
        Ok(())
    }

    pub(super) async fn abort(mut self) {
        self.done = true;
        if let Some(upload_id) = self.upload_id.take() {
            abort_upload(&self.client, &self.bucket, &self.object_key, &upload_id).await;
        }
    }
}

impl Drop for S3Write {
    /// A writer dropped mid-way (a client that went away) aborts its multipart upload, so
    /// that the parts sent do not stay stored.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (Some(upload_id), Ok(runtime)) = (self.upload_id.take(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let (client, bucket, object_key) = (self.client.clone(), self.bucket.clone(), self.object_key.clone());
        runtime.spawn(async move { abort_upload(&client, &bucket, &object_key, &upload_id).await });
    }
}

async fn abort_upload(client: &Client, bucket: &str, object_key: &str, upload_id: &str) {
    if let Err(error) = client
        .abort_multipart_upload()
        .bucket(bucket)
        .key(object_key)
        .upload_id(upload_id)
        .send()
        .await
    {
        tracing::warn!(error = %error, "an abandoned multipart upload could not be aborted");
    }
}

fn backend<E>(operation: &'static str, key: &str, error: E) -> StorageError
where
    E: ProvideErrorMetadataOrDisplay,
{
    StorageError::Backend {
        operation,
        key: key.to_owned(),
        source: error.into_boxed(),
    }
}

/// SDK errors print only "service error"; this keeps the S3 error code in the chain.
trait ProvideErrorMetadataOrDisplay {
    fn into_boxed(self) -> Box<dyn std::error::Error + Send + Sync>;
}

impl<E, R> ProvideErrorMetadataOrDisplay for aws_sdk_s3::error::SdkError<E, R>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    fn into_boxed(self) -> Box<dyn std::error::Error + Send + Sync> {
        let code = self.code().map(str::to_owned);
        let detail = aws_sdk_s3::error::DisplayErrorContext(&self).to_string();
        match code {
            Some(code) => format!("{code}: {detail}").into(),
            None => detail.into(),
        }
    }
}

impl ProvideErrorMetadataOrDisplay for aws_sdk_s3::primitives::ByteStreamError {
    fn into_boxed(self) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(self)
    }
}
