//! Live progress: a WebSocket client follows a project's documents to completion in
//! sequence order; one that reconnects with `since` misses nothing; tickets work once and
//! expire; a client that stops reading gets `lagged` while another is unaffected; polling
//! gives the same events; and two API replicas deliver the events of a job started on the
//! other and run by a worker process.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::both_modes;
use crate::processing::{project, upload};
use crate::support::{Mode, TestApp, TestSetup, spawn_app};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(90);

/// Opens the progress socket with the app's key in the header; `query` as given.
async fn connect(app: &TestApp, query: &str) -> Socket {
    let url = format!("{}/ws/progress{query}", app.address.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {}", app.key()).parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .expect("the socket opens")
        .0
}

/// Opens the socket with a ticket; the HTTP status when it is refused.
async fn connect_with_ticket(app: &TestApp, ticket: &str) -> Result<Socket, u16> {
    let url = format!("{}/ws/progress?ticket={ticket}", app.address.replacen("http", "ws", 1));
    match tokio_tungstenite::connect_async(url).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(error) => panic!("the socket failed otherwise: {error}"),
    }
}

/// Opens the socket with a receive window of a few kilobytes, so that a client that does
/// not read fills it, and the server's buffers behind it, quickly.
async fn connect_small_window(app: &TestApp) -> Socket {
    let address: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let tcp = tokio::net::TcpSocket::new_v4().unwrap();
    tcp.set_recv_buffer_size(4096).unwrap();
    let stream = tcp.connect(address).await.unwrap();
    let mut request = format!("ws://{address}/ws/progress").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {}", app.key()).parse().unwrap());
    tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(stream))
        .await
        .expect("the socket opens")
        .0
}

async fn ticket(app: &TestApp) -> Value {
    let response = app.post("/api/v1/ws-tickets").send().await.unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn subscribe(socket: &mut Socket, what: Value) {
    let mut command = what;
    command["action"] = json!("subscribe");
    socket.send(Message::Text(command.to_string().into())).await.unwrap();
}

/// The next JSON message, skipping pings; `None` after `within` of silence.
async fn next(socket: &mut Socket, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => return Some(serde_json::from_str(text.as_str()).unwrap()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(other))) => panic!("unexpected message {other:?}"),
            Ok(Some(Err(error))) => panic!("the socket failed: {error}"),
            Ok(None) | Err(_) => return None,
        }
    }
}

/// Reads until every document in `documents` has a `complete` detection; returns the
/// messages read (current-state messages included).
async fn until_detected(socket: &mut Socket, documents: &BTreeSet<String>) -> Vec<Value> {
    let mut messages = Vec::new();
    let mut done = BTreeSet::new();
    while done != *documents {
        let message = next(socket, WAIT).await.unwrap_or_else(|| {
            panic!(
                "no completion for {:?} within {WAIT:?}: {messages:#?}",
                documents.difference(&done)
            )
        });
        if message["type"] == "complete" && message["operation"] == "detect" && message["current"].is_null() {
            done.insert(message["document_id"].as_str().unwrap().to_owned());
        }
        messages.push(message);
    }
    messages
}

async fn detect(app: &TestApp, document_id: &str) {
    let response = app
        .post(&format!("/api/v1/documents/{document_id}/detect"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
}

fn sequence(messages: &[Value]) -> Vec<i64> {
    messages
        .iter()
        .filter(|message| message["current"].is_null())
        .map(|message| message["seq"].as_i64().unwrap())
        .collect()
}

async fn a_project_s_progress_arrives_in_order_and_survives_a_reconnect(mode: Mode) {
    let app = spawn_app(mode).await;
    let project_id = project(&app, "En vivo", true).await;
    let other_project = project(&app, "Otro", true).await;

    // A ticket opens one socket, once.
    let issued = ticket(&app).await;
    let ticket_text = issued["ticket"].as_str().unwrap();
    assert!(issued["url"].as_str().unwrap().starts_with("ws://"), "{issued}");
    let mut watcher = connect_with_ticket(&app, ticket_text)
        .await
        .expect("a fresh ticket opens the socket");
    assert_eq!(connect_with_ticket(&app, ticket_text).await.err(), Some(401));
    assert_eq!(connect_with_ticket(&app, "wst_made_up").await.err(), Some(401));
    subscribe(&mut watcher, json!({ "project_id": project_id })).await;
    // Another, by header, that will leave half-way.
    let mut leaver = connect(&app, "").await;
    subscribe(&mut leaver, json!({ "project_id": project_id })).await;
    // Bad commands are answered, and change nothing.
    leaver.send(Message::Text("hello".into())).await.unwrap();
    let answer = next(&mut leaver, WAIT).await.unwrap();
    assert_eq!(
        (answer["type"].as_str(), answer["code"].as_str()),
        (Some("error"), Some("invalid_message"))
    );
    subscribe(&mut leaver, json!({ "project_id": uuid::Uuid::new_v4() })).await;
    let answer = next(&mut leaver, WAIT).await.unwrap();
    assert_eq!(answer["code"], "not_found", "{answer}");

    let mut documents = BTreeSet::new();
    for (index, text) in [
        "Escrito de Ana Ruiz, ana@example.com.",
        "Nota de Luis Gil.",
        "Carta a marta@example.com.",
    ]
    .iter()
    .enumerate()
    {
        let id = upload(&app, &project_id, &format!("doc-{index}.txt"), text.as_bytes().to_vec()).await;
        documents.insert(id);
    }
    let elsewhere = upload(&app, &other_project, "fuera.txt", b"Fuera: pepe@example.com".to_vec()).await;
    detect(&app, &elsewhere).await;
    let first = documents.iter().next().unwrap().clone();
    detect(&app, &first).await;

    // The leaver sees the first document finish, then goes.
    let before = until_detected(&mut leaver, &BTreeSet::from([first.clone()])).await;
    let last_seen = *sequence(&before).last().unwrap();
    drop(leaver);
    for document in documents.iter().skip(1) {
        detect(&app, document).await;
    }
    let seen = until_detected(&mut watcher, &documents).await;

    // In order, with nothing of the other project.
    let numbers = sequence(&seen);
    assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]), "{numbers:?}");
    assert!(
        seen.iter().all(|message| message["project_id"] == project_id.as_str()),
        "{seen:#?}"
    );
    for document in &documents {
        let steps: Vec<&str> = seen
            .iter()
            .filter(|message| message["document_id"] == document.as_str())
            .map(|message| message["code"].as_str().unwrap_or_default())
            .collect();
        for code in ["queued", "started", "entities_found"] {
            assert!(steps.contains(&code), "{document}: {code} not in {steps:?}");
        }
    }

    // Back with `since`: everything after what it saw, and nothing before.
    let mut back = connect(&app, &format!("?since={last_seen}")).await;
    subscribe(&mut back, json!({ "project_id": project_id })).await;
    let rest: BTreeSet<String> = documents.iter().skip(1).cloned().collect();
    let resumed = until_detected(&mut back, &rest).await;
    let resumed_numbers = sequence(&resumed);
    let expected: Vec<i64> = numbers.iter().copied().filter(|seq| *seq > last_seen).collect();
    assert_eq!(
        resumed_numbers, expected,
        "the resumed client missed events, or got others"
    );

    // Polling gives the same events.
    let polled: Value = app
        .get(&format!(
            "/api/v1/events?since={last_seen}&project_id={project_id}&limit=1000"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let polled_numbers: Vec<i64> = polled["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(polled_numbers, expected, "{polled}");
    assert_eq!(polled["resync_needed"], false);
    let response = app.get("/api/v1/events?limit=0").send().await.unwrap();
    assert_eq!(response.status(), 400);

    // A subscriber after the fact gets the current state first.
    let mut late = connect(&app, "").await;
    subscribe(&mut late, json!({ "document_id": first })).await;
    let state = next(&mut late, WAIT).await.unwrap();
    assert_eq!(
        (
            state["type"].as_str(),
            state["status"].as_str(),
            state["current"].as_bool()
        ),
        (Some("complete"), Some("DETECTION_COMPLETE"), Some(true)),
        "{state}"
    );
    app.stop().await;
}
both_modes!(a_project_s_progress_arrives_in_order_and_survives_a_reconnect);

/// An expired ticket opens nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tickets_are_refused() {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = spawn_app(Mode::Embedded).await;
    let issued = ticket(&app).await;
    let state = &app.server.as_ref().unwrap().state;
    obscura_entity::ws_tickets::Entity::update_many()
        .col_expr(
            obscura_entity::ws_tickets::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(obscura_entity::ws_tickets::Column::Hash.is_not_null())
        .exec(state.database.orm())
        .await
        .unwrap();
    assert_eq!(
        connect_with_ticket(&app, issued["ticket"].as_str().unwrap())
            .await
            .err(),
        Some(401)
    );
    app.stop().await;
}

/// A client that stops reading falls behind its bounded queue: it is told `lagged`, then
/// `resync` and the current state, while a client that reads gets every event in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_lags_alone() {
    let mut setup = TestSetup::new(Mode::Embedded).await;
    setup.vars.push(("OBSCURA__EVENTS__SOCKET_BUFFER".into(), "64".into()));
    let app = setup.start().await;
    let project_id = project(&app, "Ruido", true).await;
    let mut slow = connect_small_window(&app).await;
    subscribe(&mut slow, json!({ "tenant": true })).await;
    let mut fast = connect(&app, "").await;
    subscribe(&mut fast, json!({ "project_id": project_id })).await;
    // Let the subscriptions land before the burst.
    tokio::time::sleep(Duration::from_millis(300)).await;

    const BURST: usize = 2000;
    let database = app.server.as_ref().unwrap().state.database.clone();
    let tenant_id = obscura_entity::DEFAULT_TENANT_ID;
    let project: uuid::Uuid = project_id.parse().unwrap();
    let reader = tokio::spawn(async move {
        let mut numbers = Vec::new();
        while numbers.len() < BURST {
            let message = next(&mut fast, WAIT).await.expect("the reading client keeps receiving");
            assert_eq!(message["type"], "progress", "the reading client fell behind: {message}");
            numbers.push(message["seq"].as_i64().unwrap());
        }
        numbers
    });
    // Big messages fill the buffers between the server and the slow client (a few MB of
    // the kernel's) sooner.
    let words = "x".repeat(10_000);
    for index in 0..BURST {
        obscura_platform::events::record_alone(
            &database,
            obscura_platform::events::NewEvent {
                tenant_id,
                kind: obscura_platform::events::kind::PROGRESS,
                project_id: Some(project),
                progress: Some(i32::try_from(index % 100).unwrap()),
                code: Some("burst".into()),
                message: Some(words.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let numbers = reader.await.unwrap();
    assert!(
        numbers.windows(2).all(|pair| pair[1] == pair[0] + 1),
        "the reading client missed events"
    );

    let mut kinds = BTreeMap::new();
    while let Some(message) = next(&mut slow, Duration::from_secs(2)).await {
        *kinds.entry(message["type"].as_str().unwrap().to_owned()).or_insert(0) += 1;
    }
    assert!(kinds.contains_key("lagged"), "{kinds:?}");
    assert!(kinds.contains_key("resync"), "{kinds:?}");
    assert!(kinds.get("progress").copied().unwrap_or(0) < BURST, "{kinds:?}");
    app.stop().await;
}

/// A subscription whose current state holds more documents than the socket's queue takes
/// gets all of it, and is not sent `lagged` for it: before, the state overflowed the queue,
/// the client was told it lagged and sent the state again, for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_current_state_larger_than_the_queue_arrives_whole() {
    const QUEUE: usize = 4;
    const DOCUMENTS: usize = 12;
    let mut setup = TestSetup::new(Mode::Embedded).await;
    setup.set("OBSCURA__EVENTS__SOCKET_BUFFER", &QUEUE.to_string());
    let app = setup.start().await;
    let project_id = project(&app, "Estado", true).await;
    let mut documents = BTreeSet::new();
    for index in 0..DOCUMENTS {
        let id = upload(
            &app,
            &project_id,
            &format!("nota-{index}.txt"),
            format!("Nota {index}.\n").into_bytes(),
        )
        .await;
        documents.insert(id);
    }
    let mut socket = connect(&app, "").await;
    subscribe(&mut socket, json!({ "project_id": project_id })).await;
    let mut current = BTreeSet::new();
    let mut kinds = BTreeMap::new();
    while let Some(message) = next(&mut socket, Duration::from_secs(2)).await {
        *kinds.entry(message["type"].as_str().unwrap().to_owned()).or_insert(0) += 1;
        if message["current"] == true {
            current.insert(message["document_id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(current, documents, "{kinds:?}");
    assert!(!kinds.contains_key("lagged"), "{kinds:?}");
    app.stop().await;
}
