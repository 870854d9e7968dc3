//! `obscura projects` and `obscura documents`: the command line as a client of a running
//! server, so that a user scripts a whole folder with them.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::cli::{DocumentsCommand, ProjectsCommand, RemoteArgs};

/// Files up to this size go as multipart uploads (the server's default limit); larger ones
/// through a presigned upload.
const MULTIPART_MAX_BYTES: u64 = 10 << 20;

/// A running server and the key to speak to it with.
struct Remote {
    base: String,
    key: String,
    client: reqwest::Client,
}

impl Remote {
    fn new(args: &RemoteArgs) -> anyhow::Result<Remote> {
        let base = args.url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("--url (OBSCURA_URL) {base:?} must start with http:// or https://");
        }
        if args.key.trim().is_empty() {
            bail!("--key (OBSCURA_KEY) is empty");
        }
        Ok(Remote {
            base,
            key: args.key.trim().to_owned(),
            client: reqwest::Client::new(),
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
    }

    /// Sends a request; a problem answer becomes an error with its code and detail.
    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<reqwest::Response> {
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach {}; is `obscura serve` running there?", self.base))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let problem: Value = response.json().await.unwrap_or_default();
        bail!(
            "{} ({}): {}",
            problem["code"].as_str().unwrap_or("error"),
            status.as_u16(),
            problem["detail"].as_str().unwrap_or("no detail")
        )
    }

    async fn json(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        Ok(self.send(request).await?.json().await?)
    }

    /// A project's id, from its id or its name.
    async fn project_id(&self, project: &str) -> anyhow::Result<String> {
        if Uuid::parse_str(project).is_ok() {
            return Ok(project.to_owned());
        }
        let mut offset = 0;
        loop {
            let page = self
                .json(self.request(
                    reqwest::Method::GET,
                    &format!("/api/v1/projects?limit=200&offset={offset}"),
                ))
                .await?;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if let Some(found) = items.iter().find(|item| item["name"] == project) {
                return Ok(found["id"].as_str().unwrap_or_default().to_owned());
            }
            offset += items.len();
            if items.is_empty() || offset as u64 >= page["total"].as_u64().unwrap_or(0) {
                bail!("no project is named {project:?}; `obscura projects list` shows them");
            }
        }
    }
}

/// `obscura projects ...`.
pub async fn run_projects(command: ProjectsCommand) -> anyhow::Result<()> {
    match command {
        ProjectsCommand::Create {
            name,
            description,
            level,
            language,
            discard_originals,
            remote,
        } => {
            let remote = Remote::new(&remote)?;
            let mut body = json!({ "name": name, "keep_originals": !discard_originals });
            if let Some(description) = description {
                body["description"] = description.into();
            }
            if let Some(level) = level {
                body["default_anonymization_level"] = level.to_uppercase().into();
            }
            if let Some(language) = language {
                body["language"] = language.into();
            }
            let project = remote
                .json(remote.request(reqwest::Method::POST, "/api/v1/projects").json(&body))
                .await?;
            println!("{}", project["id"].as_str().unwrap_or_default());
        }
        ProjectsCommand::List { remote } => {
            let remote = Remote::new(&remote)?;
            println!("{:<36}  {:<30}  {:>9}  by state", "id", "name", "documents");
            let mut offset = 0;
            loop {
                let page = remote
                    .json(remote.request(
                        reqwest::Method::GET,
                        &format!("/api/v1/projects?limit=200&offset={offset}"),
                    ))
                    .await?;
                let items = page["items"].as_array().cloned().unwrap_or_default();
                for project in &items {
                    let states: Vec<String> = project["documents_by_state"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(_, count)| count.as_u64().unwrap_or(0) > 0)
                        .map(|(state, count)| format!("{state} {count}"))
                        .collect();
                    println!(
                        "{:<36}  {:<30}  {:>9}  {}",
                        project["id"].as_str().unwrap_or_default(),
                        project["name"].as_str().unwrap_or_default(),
                        project["document_count"],
                        states.join(", ")
                    );
                }
                offset += items.len();
                if items.is_empty() || offset as u64 >= page["total"].as_u64().unwrap_or(0) {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// `obscura documents ...`.
pub async fn run_documents(command: DocumentsCommand) -> anyhow::Result<()> {
    match command {
        DocumentsCommand::Upload {
            files,
            project,
            detect,
            remote,
        } => {
            let remote = Remote::new(&remote)?;
            let project_id = remote.project_id(&project).await?;
            let files = expand(&files)?;
            if files.is_empty() {
                bail!("no files to upload");
            }
            let total: u64 = files
                .iter()
                .map(|file| std::fs::metadata(file).map(|meta| meta.len()).unwrap_or(0))
                .sum();
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let mut failed = 0;
            for file in &files {
                bar.set_message(file.display().to_string());
                match upload(&remote, &project_id, file, detect, &bar).await {
                    Ok(line) => bar.suspend(|| println!("{line}")),
                    Err(error) => {
                        failed += 1;
                        bar.suspend(|| eprintln!("{}: {error:#}", file.display()));
                    }
                }
            }
            bar.finish_and_clear();
            if failed > 0 {
                bail!("{failed} of {} files were not uploaded", files.len());
            }
        }
        DocumentsCommand::Export {
            id,
            format,
            out,
            allow_leaks,
            remote,
        } => {
            let remote = Remote::new(&remote)?;
            let mut path = format!("/api/v1/documents/{id}/export?format={format}");
            if allow_leaks {
                path.push_str("&allow_leaks=true");
            }
            let response = remote.send(remote.request(reqwest::Method::POST, &path)).await?;
            let bytes = response.bytes().await?;
            std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
            println!("{} ({} bytes)", out.display(), bytes.len());
        }
    }
    Ok(())
}

/// The files of the arguments: files as given, folders' files in name order.
fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut pending = vec![path.clone()];
            let mut found = Vec::new();
            while let Some(directory) = pending.pop() {
                for entry in
                    std::fs::read_dir(&directory).with_context(|| format!("reading {}", directory.display()))?
                {
                    let entry = entry?.path();
                    if entry.is_dir() {
                        pending.push(entry);
                    } else if entry.is_file() {
                        found.push(entry);
                    }
                }
            }
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{} is not a file or a folder", path.display());
        }
    }
    Ok(files)
}

/// Uploads one file; returns the line to print.
async fn upload(
    remote: &Remote,
    project_id: &str,
    file: &Path,
    detect: bool,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<String> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let body = || -> anyhow::Result<reqwest::Body> {
        let opened = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        let bar = bar.clone();
        let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(opened)).map(move |chunk| {
            if let Ok(chunk) = &chunk {
                bar.inc(chunk.len() as u64);
            }
            chunk
        });
        Ok(reqwest::Body::wrap_stream(stream))
    };
    let (document, job) = if size <= MULTIPART_MAX_BYTES {
        let part = reqwest::multipart::Part::stream_with_length(body()?, size).file_name(name.clone());
        let form = reqwest::multipart::Form::new().part("file", part);
        let result = remote
            .json(
                remote
                    .request(
                        reqwest::Method::POST,
                        &format!("/api/v1/documents?project_id={project_id}"),
                    )
                    .multipart(form),
            )
            .await;
        let document = match result {
            Ok(document) => document,
            Err(error) if error.to_string().starts_with("duplicate_document") => {
                return Ok(format!("{}: already in the project ({error})", file.display()));
            }
            Err(error) => return Err(error),
        };
        let job = if detect {
            let id = document["id"].as_str().unwrap_or_default();
            let accepted = remote
                .json(
                    remote
                        .request(reqwest::Method::POST, &format!("/api/v1/documents/{id}/detect"))
                        .json(&json!({})),
                )
                .await?;
            accepted["job_id"].as_str().map(str::to_owned)
        } else {
            None
        };
        (document, job)
    } else {
        let digest = {
            let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            hex::encode(Sha256::digest(&bytes))
        };
        let content_type = media_type(&name);
        let ticket = remote
            .json(remote.request(reqwest::Method::POST, "/api/v1/uploads").json(&json!({
                "project_id": project_id, "filename": name, "size": size,
                "content_type": content_type, "sha256": digest, "detect": detect,
            })))
            .await?;
        let mut put = remote
            .client
            .put(ticket["upload_url"].as_str().unwrap_or_default())
            .body(body()?);
        for (header, value) in ticket["headers"].as_object().into_iter().flatten() {
            if !header.eq_ignore_ascii_case("content-length") {
                put = put.header(header.as_str(), value.as_str().unwrap_or_default());
            }
        }
        let response = put.header("content-length", size).send().await?;
        if !response.status().is_success() {
            bail!("the upload URL answered {}", response.status());
        }
        let id = ticket["document_id"].as_str().unwrap_or_default();
        let completed = remote
            .json(remote.request(reqwest::Method::POST, &format!("/api/v1/documents/{id}/complete")))
            .await?;
        let job = completed["detection_job_id"].as_str().map(str::to_owned);
        (completed, job)
    };
    let mut line = format!(
        "{}: document {} ({})",
        file.display(),
        document["id"].as_str().unwrap_or_default(),
        document["format"].as_str().unwrap_or_default()
    );
    if let Some(job) = job {
        line.push_str(&format!(", detection job {job}"));
    }
    Ok(line)
}

/// The media type a presigned upload announces, from the name; the server sniffs the bytes.
fn media_type(name: &str) -> &'static str {
    match name
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .as_deref()
    {
        Some("pdf") => "application/pdf",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("tif" | "tiff") => "image/tiff",
        Some("txt") => "text/plain",
        Some("md") => "text/markdown",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("html" | "htm") => "text/html",
        _ => "application/octet-stream",
    }
}
