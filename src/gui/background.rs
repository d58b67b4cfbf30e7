//! Background jobs of the app. Natively each runs on its own named thread, so the UI thread never waits. In the
//! browser (wasm32 without cross-origin isolation there are no threads) a job given to `background` runs at once on
//! the calling thread, so only light jobs go there on the web; translation runs in a Web Worker (`crate::web`).

use std::panic::AssertUnwindSafe;

use poll_promise::Promise;

/// A job's result, or its error message.
pub type JobResult<T> = Result<T, String>;

/// Runs `job` in the background; its result arrives through the promise. A job that panics arrives as an error
/// naming it (poll-promise would otherwise panic the UI thread when its sender is dropped).
pub fn background<T: Send + 'static>(
    name: &str,
    job: impl FnOnce() -> JobResult<T> + Send + 'static,
) -> Promise<JobResult<T>> {
    let label = name.to_string();
    let guarded = move || {
        std::panic::catch_unwind(AssertUnwindSafe(job))
            .unwrap_or_else(|_| Err(format!("the background job `{label}` panicked")))
    };
    #[cfg(not(target_arch = "wasm32"))]
    return Promise::spawn_thread(name, guarded);
    #[cfg(target_arch = "wasm32")]
    Promise::from_ready(guarded())
}

/// Runs the async `job` (a fetch, then light work) on the page's event loop; its result arrives through the
/// promise. The browser's way to load what the desktop reads from disk on a thread.
#[cfg(target_arch = "wasm32")]
pub fn fetch_job<T: Send + 'static>(
    job: impl std::future::Future<Output = JobResult<T>> + 'static,
) -> Promise<JobResult<T>> {
    let (sender, promise) = Promise::new();
    wasm_bindgen_futures::spawn_local(async move { sender.send(job.await) });
    promise
}

/// Starts `job` on its own named thread (native only: in the browser, translation, the one job that streams, runs
/// in a Web Worker instead, `crate::web`).
#[cfg(not(target_arch = "wasm32"))]
pub fn spawn_job(name: String, job: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .name(name)
        .spawn(job)
        .expect("spawning a background thread");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_job_arrives_as_an_error_naming_it() {
        let result = background("exploding-job", || -> JobResult<u8> { panic!("boom") }).block_and_take();
        assert_eq!(result, Err("the background job `exploding-job` panicked".to_string()));
        assert_eq!(background("fine", || Ok(7u8)).block_and_take(), Ok(7));
    }
}
