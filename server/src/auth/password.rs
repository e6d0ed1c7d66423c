//! Password hashing with argon2id (the `argon2` crate, OWASP-recommended defaults).
//! Hashes are PHC strings, so parameters can be raised later without breaking old hashes.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use app::domain::team::Password;
use rand::{distributions::Alphanumeric, Rng};
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    mpsc, LazyLock, Mutex,
};
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("could not hash the password: {0}")]
    Failed(String),
    #[error("too many passwords are being checked right now")]
    Busy,
}

/// Most argon2 runs that may wait for the hashing thread (about 25 ms each); beyond
/// that a sign-in is refused before it costs anything (429), so a flood of attempts
/// cannot queue up minutes of hashing in front of the real members.
pub const MAX_WAITING: usize = 16;

/// The hashing thread is busy: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many passwords are being checked right now")]
pub struct Busy;

pub fn hash(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Failed(e.to_string()))
}

/// True when `password` matches the stored PHC `hash`. A malformed hash never matches.
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

type Job = Box<dyn FnOnce() + Send>;

/// One thread per process runs every argon2 computation. Each takes 19 MiB of working
/// memory, and the allocator keeps a freed area per thread: spread over the blocking
/// pool, six sign-ins grew the server from 12 to 127 MiB. On one thread, memory stays
/// bounded, and a flood of sign-ins queues instead of taking every core.
static WORKER: LazyLock<Option<Mutex<mpsc::Sender<Job>>>> = LazyLock::new(|| {
    let (jobs, queue) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("argon2".into())
        .spawn(move || {
            for job in queue {
                job();
                release_freed_memory();
            }
        })
        .ok()
        .map(|_| Mutex::new(jobs))
});

/// glibc keeps the freed 19 MiB working area of each argon2 run in this thread's
/// arena (measured: +19.5 MiB per sign-in, up to 117 MiB); hand it back to the OS.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_freed_memory() {
    extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: malloc_trim only returns free memory to the OS; it takes no pointers.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}

/// Jobs queued for, or running on, the hashing thread.
static WAITING: AtomicUsize = AtomicUsize::new(0);

/// Gives the job's place in the queue back when the job is done (or dropped unrun).
struct Place;

impl Drop for Place {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs `work` on the hashing thread. `Ok(None)`: the thread is gone.
async fn on_worker<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<Option<T>, Busy> {
    if WAITING.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
        WAITING.fetch_sub(1, Ordering::AcqRel);
        return Err(Busy);
    }
    let place = Place;
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _place = place;
        let _ = done.send(work());
    });
    let queued = WORKER.as_ref().and_then(|jobs| jobs.lock().ok().map(|jobs| jobs.send(job).is_ok()));
    if queued != Some(true) {
        return Ok(None);
    }
    Ok(result.await.ok())
}

/// `hash`, off the async workers.
pub async fn hash_async(password: Password) -> Result<String, HashError> {
    match on_worker(move || hash(password.expose())).await {
        Ok(Some(hashed)) => hashed,
        Ok(None) => Err(HashError::Failed("the hashing thread is gone".into())),
        Err(Busy) => Err(HashError::Busy),
    }
}

/// `verify`, off the async workers. False if the work could not run.
pub async fn verify_async(password: Password, hash: String) -> Result<bool, Busy> {
    Ok(on_worker(move || verify(password.expose(), &hash)).await?.unwrap_or(false))
}

/// A random password for a first-start admin: 20 letters and digits (~119 bits).
pub fn generate() -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let stored = hash("correct horse battery staple").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery staple", &stored));
        assert!(!verify("correct horse battery stapler", &stored));
        assert!(!verify("", &stored));
    }

    #[test]
    fn a_malformed_hash_never_matches() {
        assert!(!verify("anything", "not a phc string"));
        assert!(!verify("", ""));
    }

    #[tokio::test]
    async fn the_worker_thread_hashes_and_verifies() {
        let stored = hash_async(Password::new("on the worker")).await.unwrap();
        assert_eq!(verify_async(Password::new("on the worker"), stored.clone()).await, Ok(true));
        assert_eq!(verify_async(Password::new("not it"), stored).await, Ok(false));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_queue_limit_work_is_refused_before_it_runs() {
        let stored = hash("queued").unwrap();
        let tries = (0..4 * MAX_WAITING).map(|_| verify_async(Password::new("queued"), stored.clone()));
        let results = futures_util::future::join_all(tries).await;
        assert!(results.contains(&Err(Busy)), "some were refused");
        assert!(results.iter().filter(|r| **r == Ok(true)).count() >= MAX_WAITING, "the queue's worth ran");
        assert_eq!(verify_async(Password::new("queued"), stored).await, Ok(true), "places are given back");
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 20);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
