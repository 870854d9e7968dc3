//! Documents: multipart uploads streamed to storage, sniffed, hashed and deduplicated, with
//! every bad input refused by name and nothing left stored.

use bytes::Bytes;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::both_modes;
use crate::support::{Mode, TestApp, TestSetup, spawn_app};

/// A tiny but real one-page PDF.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn project(app: &TestApp, name: &str) -> String {
    let response = app
        .post("/api/v1/projects")
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn upload(app: &TestApp, project_id: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    let form = reqwest::multipart::Form::new().text("note", "ignored").part(
        "file",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
    );
    let response = app
        .post(&format!("/api/v1/documents?project_id={project_id}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn uploads_are_sniffed_hashed_listed_and_deduplicated(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app, "Actas").await;
    let text = "En Madrid, a 15 de marzo de 2024, comparece D. Juan Pérez García.\n".as_bytes();
    let (status, document) = upload(&app, &project_id, "acta.txt", text).await;
    assert_eq!(status, 201, "{document}");
    assert_eq!(document["state"], "PENDING");
    assert_eq!(document["format"], "txt");
    assert_eq!(document["filename"], "acta.txt");
    assert_eq!(document["size"], text.len());
    assert_eq!(document["sha256"], hex::encode(Sha256::digest(text)));
    assert_eq!(document["project_id"], project_id.as_str());
    let text_id = document["id"].as_str().unwrap().to_owned();

    // A path in the name is dropped; the type comes from the bytes.
    let (status, pdf) = upload(&app, &project_id, "../../escaneos/acta.pdf", PDF).await;
    assert_eq!(status, 201, "{pdf}");
    assert_eq!(pdf["format"], "pdf");
    assert_eq!(pdf["filename"], "acta.pdf");

    // The same content again, under another name: refused, naming the document.
    let (status, problem) = upload(&app, &project_id, "copia.txt", text).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "duplicate_document");
    assert!(problem["detail"].as_str().unwrap().contains(&text_id), "{problem}");
    // In another project it is a document of its own.
    let other_project = project(&app, "Otras").await;
    let (status, _) = upload(&app, &other_project, "acta.txt", text).await;
    assert_eq!(status, 201);

    let list: Value = app
        .get(&format!("/api/v1/documents?project_id={project_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["filename"], "acta.pdf", "newest first");
    let read: Value = app
        .get(&format!("/api/v1/documents/{text_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["sha256"], document["sha256"]);
    let counted: Value = app
        .get(&format!("/api/v1/projects/{project_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counted["document_count"], 2);
    assert_eq!(counted["documents_by_state"]["PENDING"], 2);

    // The upload is audited with its size, never its name or content.
    let audit: Value = app
        .get(&format!("/api/v1/audit?project_id={project_id}&action=document.upload"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(audit["total"], 2);
    assert!(!audit.to_string().contains("acta"), "{audit}");
    app.stop().await;
}
both_modes!(uploads_are_sniffed_hashed_listed_and_deduplicated);

async fn bad_uploads_are_refused_by_name_and_leave_nothing(mode: Mode) {
    let mut setup = TestSetup::new(mode).await;
    setup.set("OBSCURA__SERVER__MAX_UPLOAD_BYTES", "100000");
    let mut app = setup.start().await;
    // The server answers some of these before it has read the body and then closes the
    // connection; a pooled connection could be picked for the next request as it closes.
    app.client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let project_id = project(&app, "Malos").await;
    let cases: [(&str, Vec<u8>, u16, &str); 5] = [
        ("vacio.txt", Vec::new(), 400, "empty_file"),
        ("acta.pdf", b"solo texto".to_vec(), 400, "mislabeled"),
        ("nota.txt", PDF.to_vec(), 400, "mislabeled"),
        (
            "programa",
            vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0],
            400,
            "unsupported",
        ),
        ("grande.txt", vec![b'a'; 100_001], 413, "upload_too_large"),
    ];
    for (name, bytes, status, code) in cases {
        let (got, problem) = upload(&app, &project_id, name, &bytes).await;
        assert_eq!(got, status, "{name}: {problem}");
        assert_eq!(problem["code"], code, "{name}: {problem}");
    }

    // A body over the limit without a length is refused once it passes the limit.
    let chunks: Vec<Result<Bytes, std::io::Error>> = std::iter::once(Ok(Bytes::from_static(
        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\r\n",
    )))
    .chain((0..40).map(|_| Ok(Bytes::from(vec![b'b'; 10_000]))))
    .chain(std::iter::once(Ok(Bytes::from_static(b"\r\n--XyZ--\r\n"))))
    .collect();
    // The server answers before the client has sent everything and closes the connection,
    // so the client sees the 413 or, when it was still writing, a closed connection.
    let sent = app
        .post(&format!("/api/v1/documents?project_id={project_id}"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await;
    if let Ok(response) = sent {
        assert_eq!(response.status(), 413);
    }
    // A length announced over the limit is refused before the body is read: the answer comes
    // while the client has sent the headers alone.
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /api/v1/documents?project_id={project_id} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 300000\r\n\r\n",
        app.key()
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes())
        .await
        .unwrap();
    let mut answer = vec![0_u8; 4096];
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::io::AsyncReadExt::read(&mut stream, &mut answer),
    )
    .await
    .expect("the server answers without waiting for the body")
    .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("upload_too_large"), "{answer}");

    // No file part, not multipart, an unknown project, a viewer.
    let form = reqwest::multipart::Form::new().text("other", "x");
    let response = app
        .post(&format!("/api/v1/documents?project_id={project_id}"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["loc"], "body.file");
    let response = app
        .post(&format!("/api/v1/documents?project_id={project_id}"))
        .json(&json!({"file": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (status, problem) = upload(&app, &Uuid::now_v7().to_string(), "a.txt", b"hola").await;
    assert_eq!(status, 404, "{problem}");
    assert_eq!(problem["code"], "project_not_found");

    let list: Value = app
        .get(&format!("/api/v1/documents?project_id={project_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0, "{list}");
    if mode == Mode::Embedded {
        let blobs = app.data_dir().join("blobs");
        let mut stored = Vec::new();
        let mut pending = vec![blobs];
        while let Some(directory) = pending.pop() {
            for entry in std::fs::read_dir(&directory).into_iter().flatten() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    stored.push(path);
                }
            }
        }
        assert!(stored.is_empty(), "nothing stays stored: {stored:?}");
    }
    let response = app
        .get(&format!("/api/v1/documents/{}", Uuid::now_v7()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    app.stop().await;
}
both_modes!(bad_uploads_are_refused_by_name_and_leave_nothing);

async fn deleted_documents_and_projects_leave_listings_and_storage(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app, "Borrar").await;
    let text = b"Ana Gil vive en Madrid.";
    let (_, document) = upload(&app, &project_id, "a.txt", text).await;
    let document_id = document["id"].as_str().unwrap().to_owned();
    let delete = |path: String| app.client.delete(app.url(&path)).bearer_auth(app.key()).send();

    let response = delete(format!("/api/v1/documents/{document_id}")).await.unwrap();
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    // Gone from reads and listings at once, before the job ran.
    let response = app
        .get(&format!("/api/v1/documents/{document_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let job = app
        .wait_for_job(accepted["job_id"].as_str().unwrap(), std::time::Duration::from_secs(30))
        .await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["kind"], "delete");
    assert_eq!(job["result"]["documents_removed"], 1);
    if mode == Mode::Embedded {
        assert!(
            !app.data_dir()
                .join("blobs/documents")
                .join(&document_id)
                .join("original")
                .exists(),
            "the original is removed"
        );
    }
    // The same content can be uploaded again.
    let (status, again) = upload(&app, &project_id, "a.txt", text).await;
    assert_eq!(status, 201, "{again}");
    let (status, _) = upload(&app, &project_id, "b.txt", b"Luis Gil vive en Vigo.").await;
    assert_eq!(status, 201);

    let response = delete(format!("/api/v1/projects/{project_id}")).await.unwrap();
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    let response = app.get(&format!("/api/v1/projects/{project_id}")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    let response = app
        .get(&format!("/api/v1/documents?project_id={project_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let job = app
        .wait_for_job(accepted["job_id"].as_str().unwrap(), std::time::Duration::from_secs(30))
        .await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["result"]["documents_removed"], 2);
    // Once the job ran, the name is free again.
    let response = app
        .post("/api/v1/projects")
        .json(&json!({ "name": "Borrar" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let audit: Value = app
        .get(&format!("/api/v1/audit?project_id={project_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "project.delete",
            "document.upload",
            "document.upload",
            "document.delete",
            "document.upload",
            "project.create"
        ]
    );
    let response = delete(format!("/api/v1/documents/{}", Uuid::now_v7())).await.unwrap();
    assert_eq!(response.status(), 404);
    app.stop().await;
}
both_modes!(deleted_documents_and_projects_leave_listings_and_storage);
