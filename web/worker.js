// The page's worker: the same wasm module as the page, holding the models and running the translations so that
// the page's thread only draws (src/web/worker.rs). Its `main` sees no window and starts nothing.
import init, { worker_main } from "./pkg/bitdistill.js";

await init();
worker_main();
