//! Password hashing with argon2id (the `argon2` crate, OWASP-recommended defaults).
//! Hashes are PHC strings, so parameters can be raised later without breaking old hashes.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use rand::{distributions::Alphanumeric, Rng};
use std::sync::{mpsc, LazyLock, Mutex};
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

pub fn hash(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
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

async fn on_worker<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    let queued = WORKER.as_ref().and_then(|jobs| jobs.lock().ok().map(|jobs| jobs.send(job).is_ok()));
    if queued != Some(true) {
        return None;
    }
    result.await.ok()
}

/// `hash`, off the async workers.
pub async fn hash_async(password: String) -> Result<String, HashError> {
    on_worker(move || hash(&password)).await.unwrap_or_else(|| Err(HashError("the hashing thread is gone".into())))
}

/// `verify`, off the async workers. False if the work could not run.
pub async fn verify_async(password: String, hash: String) -> bool {
    on_worker(move || verify(&password, &hash)).await.unwrap_or(false)
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
        let stored = hash_async("on the worker".into()).await.unwrap();
        assert!(verify_async("on the worker".into(), stored.clone()).await);
        assert!(!verify_async("not it".into(), stored).await);
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 20);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}
