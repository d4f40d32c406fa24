/**
 * Entry point: validate configuration, start, and drain on SIGTERM/SIGINT.
 *
 * Exit codes: 0 after a clean drain, 1 for invalid configuration or a failure to start or stop.
 */
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { jsonLogger, levelFilter } from "./log.ts";
import { startService } from "./service.ts";

function configOrExit(): Config {
    try {
        return loadConfig(process.env);
    } catch (err) {
        // A plain message rather than a stack trace: the reader is whoever looks at `kubectl logs`.
        process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
        process.exit(1);
    }
}

const config = configOrExit();
const log = levelFilter(config.LOG_LEVEL, jsonLogger);
const service = await startService(config, log).catch((err: unknown) => {
    log("error", "failed to start", { error: String(err) });
    process.exit(1);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
        log("info", `received ${signal}`);
        service.shutdown().then(
            // Explicit exit: nothing else should hold the process, and a stray handle must not outlive the pod.
            () => process.exit(0),
            (err: unknown) => {
                log("error", "shutdown failed", { error: String(err) });
                process.exit(1);
            },
        );
    });
}
