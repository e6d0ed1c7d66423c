//! Group commit: the changes that arrive while a transaction is open or committing
//! share the next commit, so one fsync (SQLite) or one WAL flush (PostgreSQL) makes
//! many of them durable at once.
//!
//! Changes run one after another in their lane's batch transaction, each seeing what
//! the earlier ones wrote, so a conditional write (a claim: `... WHERE state = $from`)
//! means inside a batch what it means alone. A change that fails is answered with its
//! own error and leaves nothing behind, and the others in the batch go on: the batch
//! runs without savepoints (each would cost a statement, and so a thread hand-off on
//! SQLite, per change) until a change fails; then the transaction is rolled back and
//! begun again, the changes before the failed one run again, and from there on each
//! change runs under its own savepoint. So a batch starts over at most once, and the
//! answer each caller gets is from the run that committed. Every caller is answered
//! only once the batch that holds its change is durable; if the commit fails, every
//! change in that batch fails with it and nothing of it is applied.
//!
//! SQLite has one lane (it has one writer anyway). PostgreSQL has several, and a
//! change goes to the lane its key (a conversation id) picks, so two changes of one
//! conversation never wait on each other's row lock from two open transactions.

use std::{
    future::Future,
    hash::{DefaultHasher, Hash, Hasher},
    panic::AssertUnwindSafe,
    pin::Pin,
};

use futures_util::FutureExt;
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::conversations::Tx;

pub type BoxFuture<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// Most changes in one transaction: bounds how long the first of them waits.
const MAX_BATCH: usize = 512;
/// Changes waiting for a lane before senders wait too (backpressure, bounded memory).
const QUEUE: usize = 4096;

/// One change waiting for its batch, type-erased so one lane carries every kind.
trait Work: Send {
    /// Runs the change in the batch's transaction; false when it failed (the lane then
    /// undoes its writes). May run again in a new transaction: the last run's output counts.
    fn run<'t>(&'t mut self, tx: &'t mut Tx) -> BoxFuture<'t, bool>;
    /// The batch is durable (`Ok`) or lost: answers the caller.
    fn finish(self: Box<Self>, committed: Result<(), &sqlx::Error>);
}

struct Job<F, T, E> {
    work: F,
    output: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Work for Job<F, T, E>
where
    F: for<'t> Fn(&'t mut Tx) -> BoxFuture<'t, Result<T, E>> + Send,
    T: Send,
    E: From<sqlx::Error> + Send,
{
    fn run<'t>(&'t mut self, tx: &'t mut Tx) -> BoxFuture<'t, bool> {
        Box::pin(async move {
            // A change that panics fails alone (its caller gets an error) instead of
            // taking the lane, and every write after it, down.
            let Ok(output) = AssertUnwindSafe((self.work)(tx)).catch_unwind().await else {
                tracing::error!("a change panicked in the group commit; it is rolled back");
                self.output = None;
                return false;
            };
            let ok = output.is_ok();
            self.output = Some(output);
            ok
        })
    }

    fn finish(self: Box<Self>, committed: Result<(), &sqlx::Error>) {
        let answer = match (self.output, committed) {
            // Its own failure was rolled back to its savepoint: the caller's answer whatever the batch did.
            (Some(Err(err)), _) => Err(err),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (Some(Ok(_)), Err(err)) | (None, Err(err)) => Err(E::from(lost(err))),
            (None, Ok(())) => Err(E::from(lost(&sqlx::Error::WorkerCrashed))),
        };
        let _ = self.reply.send(answer);
    }
}

/// The error each caller of a batch that did not commit gets (sqlx errors are not `Clone`).
fn lost(err: &sqlx::Error) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!("the transaction holding this change did not commit: {err}")))
}

#[derive(Clone)]
pub struct GroupCommit {
    lanes: std::sync::Arc<[mpsc::Sender<Box<dyn Work>>]>,
}

impl GroupCommit {
    /// Starts `lanes` writer tasks, each taking its connection from `pool` per batch.
    pub fn start(pool: AnyPool, lanes: usize) -> GroupCommit {
        let lanes: Vec<_> = (0..lanes.max(1))
            .map(|_| {
                let (sender, receiver) = mpsc::channel(QUEUE);
                tokio::spawn(lane(pool.clone(), receiver));
                sender
            })
            .collect();
        GroupCommit { lanes: lanes.into() }
    }

    /// Runs `work` in the next batch of the lane `key` picks; answers once that batch
    /// is durable. `work` must be all of one change: it runs with other callers'
    /// changes in the same transaction, so it must not commit, and what it returns
    /// counts only if the batch commits. It may run more than once (in a transaction
    /// that is then rolled back), so it must do nothing outside the transaction.
    pub async fn write<T, E, F>(&self, key: &str, work: F) -> Result<T, E>
    where
        F: for<'t> Fn(&'t mut Tx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: From<sqlx::Error> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Work> = Box::new(Job { work, output: None, reply });
        let lane = &self.lanes[self.lane_of(key)];
        lane.send(job).await.map_err(|_| E::from(sqlx::Error::PoolClosed))?;
        answer.await.map_err(|_| E::from(sqlx::Error::WorkerCrashed))?
    }

    fn lane_of(&self, key: &str) -> usize {
        if self.lanes.len() == 1 {
            return 0;
        }
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        (hasher.finish() % self.lanes.len() as u64) as usize
    }
}

async fn lane(pool: AnyPool, mut jobs: mpsc::Receiver<Box<dyn Work>>) {
    let mut batch: Vec<Box<dyn Work>> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        let committed = run_batch(&pool, &mut jobs, &mut batch).await;
        if let Err(err) = &committed {
            tracing::error!(error = %err, changes = batch.len(), "a group commit failed; its changes are not applied");
        }
        for job in batch.drain(..) {
            job.finish(committed.as_ref().map(|_| ()));
        }
    }
}

fn execute<'t>(tx: &'t mut Tx, sql: &'static str) -> BoxFuture<'t, Result<(), sqlx::Error>> {
    Box::pin(async move { sqlx::query(sql).execute(&mut **tx).await.map(|_| ()) })
}

/// One transaction: the batch's changes, and those that queue up while they run, up to
/// `MAX_BATCH`; then one commit. Savepoints only once a change has failed (see the top).
async fn run_batch(
    pool: &AnyPool,
    jobs: &mut mpsc::Receiver<Box<dyn Work>>,
    batch: &mut Vec<Box<dyn Work>>,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut guarded = false;
    let mut done = 0;
    loop {
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if done == batch.len() {
            break;
        }
        while done < batch.len() {
            if guarded {
                run_guarded(&mut tx, &mut batch[done]).await?;
            } else if !batch[done].run(&mut tx).await {
                // Its writes, if any, are in the transaction with no savepoint to go back
                // to (and PostgreSQL refuses any statement after an error): start over
                // without it. It keeps its error; the ones before it run again.
                tx.rollback().await?;
                tx = pool.begin().await?;
                guarded = true;
                for job in &mut batch[..done] {
                    run_guarded(&mut tx, job).await?;
                }
            }
            done += 1;
        }
    }
    tx.commit().await
}

/// Runs `job` under a savepoint, rolled back to if it fails. Not released: the next
/// `SAVEPOINT change` shadows it (a rollback goes to the newest), and the commit ends them all.
async fn run_guarded(tx: &mut Tx, job: &mut Box<dyn Work>) -> Result<(), sqlx::Error> {
    execute(tx, "SAVEPOINT change").await?;
    if !job.run(tx).await {
        execute(tx, "ROLLBACK TO SAVEPOINT change").await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use futures_util::future::join_all;

    use crate::store::Store;

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}/group.db?mode=rwc", dir.path().display());
        let store = Store::connect(&url, 4).await.expect("SQLite");
        let mut tx = store.begin_write().await.expect("tx");
        sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)").execute(&mut *tx).await.expect("table");
        tx.commit().await.expect("commit");
        (store, dir)
    }

    /// One change that inserts each of `keys`, in order.
    async fn insert_all(store: &Store, keys: &[&str]) -> Result<(), sqlx::Error> {
        let keys: Vec<String> = keys.iter().map(|key| (*key).to_owned()).collect();
        store
            .write("t", move |tx| {
                let keys = keys.clone();
                Box::pin(async move {
                    for key in keys {
                        sqlx::query("INSERT INTO t (k, v) VALUES ($1, 0)").bind(&key).execute(&mut **tx).await?;
                    }
                    Ok(())
                })
            })
            .await
    }

    async fn insert(store: &Store, key: &str) -> Result<(), sqlx::Error> {
        insert_all(store, &[key]).await
    }

    /// The one integer `sql` selects.
    async fn scalar(store: &Store, sql: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql).fetch_one(store.pool()).await.and_then(|row| row.try_get(0)).expect(sql)
    }

    async fn count(store: &Store) -> i64 {
        scalar(store, "SELECT COUNT(*) FROM t").await
    }

    #[tokio::test]
    async fn a_failing_change_fails_alone_and_the_rest_of_its_batch_commits() {
        let (store, _dir) = store().await;
        insert(&store, "taken").await.expect("first");
        let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
        // Writes a row of its own, then fails on the duplicate: its own row must go too.
        let (half_done, results) =
            tokio::join!(insert_all(&store, &["mine", "taken"]), join_all(keys.iter().map(|key| insert(&store, key))));
        assert!(half_done.is_err(), "the duplicate fails");
        assert!(results.iter().all(Result::is_ok), "the rest of the batch commits");
        assert_eq!(count(&store).await, 51, "50 + the first; nothing of the failed change");
    }

    #[tokio::test]
    async fn a_conditional_write_wins_once_among_concurrent_changes() {
        let (store, _dir) = store().await;
        insert(&store, "chat").await.expect("row");
        let claims = (1..=20).map(|agent: i64| {
            store.write("t", move |tx| {
                Box::pin(async move {
                    let done = sqlx::query("UPDATE t SET v = $1 WHERE k = 'chat' AND v = 0")
                        .bind(agent)
                        .execute(&mut **tx)
                        .await?
                        .rows_affected();
                    Ok::<_, sqlx::Error>(done == 1)
                })
            })
        });
        let won = join_all(claims).await.into_iter().filter(|r| matches!(r, Ok(true))).count();
        assert_eq!(won, 1, "exactly one claim wins, inside a batch as alone");
    }

    #[tokio::test]
    async fn failures_mid_batch_start_it_over_once_and_each_answer_is_the_one_that_committed() {
        let (store, _dir) = store().await;
        insert(&store, "chat").await.expect("row");
        insert(&store, "taken").await.expect("row");
        // Claims and failing changes mixed in one queue: the first failure rolls the batch
        // back and runs the claims before it again; the second runs under a savepoint.
        let changes = (1..=40).map(|agent: i64| {
            let store = store.clone();
            async move {
                if agent % 15 == 0 {
                    return insert_all(&store, &[&format!("lost{agent}"), "taken"]).await.map(|()| None);
                }
                store
                    .write("t", move |tx| {
                        Box::pin(async move {
                            sqlx::query("INSERT INTO t (k, v) VALUES ($1, $2)")
                                .bind(format!("a{agent}"))
                                .bind(agent)
                                .execute(&mut **tx)
                                .await?;
                            let done = sqlx::query("UPDATE t SET v = $1 WHERE k = 'chat' AND v = 0")
                                .bind(agent)
                                .execute(&mut **tx)
                                .await?
                                .rows_affected();
                            Ok::<_, sqlx::Error>(Some(done == 1))
                        })
                    })
                    .await
            }
        });
        let answers = join_all(changes).await;
        let failed = answers.iter().filter(|answer| answer.is_err()).count();
        assert_eq!(failed, 2, "only the two duplicates fail: {answers:?}");
        let winners: Vec<i64> =
            (1..=40).zip(&answers).filter(|(_, answer)| matches!(answer, Ok(Some(true)))).map(|(a, _)| a).collect();
        assert_eq!(winners.len(), 1, "one claim wins: {answers:?}");
        let holder = scalar(&store, "SELECT v FROM t WHERE k = 'chat'").await;
        assert_eq!(holder, winners[0], "the winner told so is the one that committed");
        assert_eq!(count(&store).await, 2 + 38, "every other change's row, nothing of the failed ones");
    }

    #[tokio::test]
    async fn a_change_that_panics_fails_alone_and_the_lane_keeps_writing() {
        let (store, _dir) = store().await;
        let panics = store.write("t", |_tx| -> super::BoxFuture<'_, Result<(), sqlx::Error>> {
            Box::pin(async { panic!("a bug in one change") })
        });
        let (panicked, inserted) = tokio::join!(panics, insert(&store, "after"));
        assert!(panicked.is_err());
        inserted.expect("the change beside it commits");
        insert(&store, "later").await.expect("the lane still writes");
        assert_eq!(count(&store).await, 2);
    }
}
