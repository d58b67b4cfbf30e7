//! Background jobs of the app. Natively each runs on its own named thread, so the UI thread never waits. In the
//! browser (wasm32 without cross-origin isolation there are no threads) a job runs at once on the calling thread:
//! the page stalls while it works, a known limit of the web build.

use poll_promise::Promise;

/// Runs `job` in the background; its result arrives through the promise.
pub fn background<T: Send + 'static>(name: &str, job: impl FnOnce() -> T + Send + 'static) -> Promise<T> {
    #[cfg(not(target_arch = "wasm32"))]
    return Promise::spawn_thread(name, job);
    #[cfg(target_arch = "wasm32")]
    {
        let _ = name;
        Promise::from_ready(job())
    }
}

/// Starts `job` on its own thread natively, or runs it to completion at once in the browser.
pub fn spawn_job(name: String, job: impl FnOnce() + Send + 'static) {
    #[cfg(not(target_arch = "wasm32"))]
    std::thread::Builder::new()
        .name(name)
        .spawn(job)
        .expect("spawning a background thread");
    #[cfg(target_arch = "wasm32")]
    {
        let _ = name;
        job();
    }
}
