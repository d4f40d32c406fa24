/** Test helpers: real HTTP against 127.0.0.1 on ephemeral ports, no mocks. */
import { request, type Agent } from "node:http";
import { loadConfig, type Config } from "../src/config.ts";

export interface Reply {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
}

/** One request to 127.0.0.1; resolves with the whole body. */
export function get(port: number, path: string, opts: { method?: string; agent?: Agent } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path, method: opts.method ?? "GET", agent: opts.agent ?? false }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (body += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
            res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
    });
}

/** A config for tests: loopback, ephemeral ports, no drain delay unless asked. */
export function testConfig(env: Record<string, string> = {}): Config {
    return loadConfig({ HOST: "127.0.0.1", PORT: "0", METRICS_PORT: "0", DRAIN_DELAY_MS: "0", ...env });
}
