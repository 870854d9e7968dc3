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
        expires_in: Duration,
    ) -> Result<PresignedUpload, StorageError> {
        let presigning = PresigningConfig::expires_in(expires_in)
            .map_err(|error| StorageError::Config(format!("presign lifetime: {error}")))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .content_type(content_type)
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
