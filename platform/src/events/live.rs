//! Events as they happen, in one process: PostgreSQL's announcements turned into notices,
//! and the feed that reads each announced event once and hands it to every reader.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use obscura_entity::events;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{CHANNEL, Event, Notice};
use crate::database::{Database, Pool};

/// How many events a process's feed holds for its slowest reader before that reader lags.
pub const FEED_CAPACITY: usize = 1024;

/// Turns PostgreSQL's announcements of events into this process's notices, until `stop`.
/// After a lost connection it announces every tenant's last number, so that readers fetch
/// what was committed meanwhile. On SQLite there is nothing to listen to.
pub fn listen(database: &Database, stop: CancellationToken) -> Option<JoinHandle<()>> {
    let Pool::Postgres(pool) = database.pool() else {
        return None;
    };
    let pool = pool.clone();
    let database = database.clone();
    Some(tokio::spawn(async move {
        loop {
            let mut listener = tokio::select! {
                () = stop.cancelled() => return,
                listener = sqlx::postgres::PgListener::connect_with(&pool) => listener,
            };
            let listener = match &mut listener {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(error = %error, "could not listen for events; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(error) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %error, "could not listen for events; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            // What was committed while no one listened.
            catch_up(&database).await;
            loop {
                let received = tokio::select! {
                    () = stop.cancelled() => return,
                    received = listener.try_recv() => received,
                };
                match received {
                    Ok(Some(notification)) => match serde_json::from_str::<Notice>(notification.payload()) {
                        Ok(notice) => {
                            let _ = database.notices().send(notice);
                        }
                        Err(error) => tracing::warn!(error = %error, "an event announcement could not be read"),
                    },
                    // The connection was lost; the listener reconnects on the next call.
                    Ok(None) => catch_up(&database).await,
                    Err(error) => {
                        tracing::warn!(error = %error, "listening for events failed; listening again");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    }))
}

/// Announces every tenant's last event number.
async fn catch_up(database: &Database) {
    let Pool::Postgres(pool) = database.pool() else {
        return;
    };
    match sqlx::query_as::<_, (uuid::Uuid, i64)>("SELECT tenant_id, last_seq FROM event_sequences")
        .fetch_all(pool)
        .await
    {
        Ok(rows) => {
            for (tenant_id, seq) in rows {
                let _ = database.notices().send(Notice { tenant_id, seq });
            }
        }
        Err(error) => tracing::warn!(error = %error, "could not read the event counters"),
    }
}

/// The events of this process's notices, each read once from the database.
#[derive(Debug, Clone)]
pub struct Feed {
    sender: broadcast::Sender<Arc<Event>>,
}

impl Feed {
    /// Starts reading what the database's notices announce, until `stop`.
    pub fn start(database: &Database, stop: CancellationToken) -> Feed {
        let (sender, _) = broadcast::channel(FEED_CAPACITY);
        let feed = Feed { sender };
        let out = feed.sender.clone();
        let mut notices = database.notices().subscribe();
        let database = database.clone();
        tokio::spawn(async move {
            // The last number handed on, by tenant.
            let mut last: HashMap<uuid::Uuid, i64> = HashMap::new();
            loop {
                let notice = tokio::select! {
                    () = stop.cancelled() => return,
                    notice = notices.recv() => notice,
                };
                let notice = match notice {
                    Ok(notice) => notice,
                    // Readers find the numbers they missed on their own.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let from = last.get(&notice.tenant_id).copied().unwrap_or(notice.seq - 1);
                if notice.seq <= from {
                    continue;
                }
                let rows = events::Entity::find()
                    .filter(events::Column::TenantId.eq(notice.tenant_id))
                    .filter(events::Column::Seq.gt(from))
                    .filter(events::Column::Seq.lte(notice.seq))
                    .order_by_asc(events::Column::Seq)
                    .all(database.orm())
                    .await;
                match rows {
                    Ok(rows) => {
                        last.insert(notice.tenant_id, notice.seq);
                        for row in rows {
                            // No reader is fine.
                            let _ = out.send(Arc::new(Event::from(row)));
                        }
                    }
                    Err(error) => tracing::warn!(error = %error, "could not read announced events"),
                }
            }
        });
        feed
    }

    /// A reader of the feed's events, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}
