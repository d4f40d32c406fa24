/**
 * scripts/docker-env.sh on machines whose engine came from somewhere else than Debian's docker.io: it must use any
 * working engine, start an installed one, and install docker.io only where there is none (installing it over Docker CE
 * would replace the engine the machine relies on). Each case runs the script's own functions in bash with a PATH of
 * fakes, so no real apt-get, dockerd or engine is touched.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../support/stacks";

const SCRIPT = path.join(REPO_ROOT, "scripts", "docker-env.sh");
/** Real tools the functions under test use; everything else on PATH is a fake. */
const TOOLS = ["bash", "cat", "id", "mkdir", "nohup", "seq", "setsid", "sleep", "tail", "touch"];

interface Machine {
    root: string;
    bin: string;
    aptLog: string;
    started: string;
}

function executable(file: string, body: string): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
}

/** A machine with only the real tools above, a recording apt-get, and nothing Docker-related yet. */
function machine(): Machine {
    const root = mkdtempSync(path.join(tmpdir(), "slipway-docker-env-"));
    const bin = path.join(root, "bin");
    mkdirSync(bin);
    for (const tool of TOOLS) {
        symlinkSync(execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), path.join(bin, tool));
    }
    const m = { root, bin, aptLog: path.join(root, "apt.log"), started: path.join(root, "dockerd-started") };
    executable(path.join(bin, "apt-get"), `echo "$*" >> "${m.aptLog}"`);
    return m;
}

/** A docker client that answers `info` once the fake daemon has started (or always, with `running`). */
function client(m: Machine, file: string, running = false): void {
    executable(file, running ? `[ "$1" = info ] && exit 0; exit 1` : `[ "$1" = info ] && [ -e "${m.started}" ] && exit 0; exit 1`);
}

/** Runs install + start as slipway_docker_env_up does, and reports what happened. */
function run(m: Machine, env: Record<string, string>): { installed: string[]; startedDaemon: boolean; client: string; log: string } {
    const out = execFileSync(
        path.join(m.bin, "bash"),
        ["-c", `source "${SCRIPT}"; slipway_install_packages; slipway_start_dockerd; echo "CLIENT=$SLIPWAY_DOCKER"`],
        {
            encoding: "utf8",
            env: { PATH: m.bin, SLIPWAY_STATE_DIR: path.join(m.root, "state"), SLIPWAY_DOCKERD_PATH: path.join(m.root, "none"), ...env },
            stdio: ["ignore", "pipe", "pipe"],
        },
    );
    const apt = existsSync(m.aptLog) ? readFileSync(m.aptLog, "utf8") : "";
    const install = apt.split("\n").find((l) => l.startsWith("install")) ?? "";
    return {
        installed: install.split(" ").filter((w) => !w.startsWith("-") && w !== "install"),
        startedDaemon: existsSync(m.started),
        client: /CLIENT=(.*)/.exec(out)?.[1] ?? "",
        log: out,
    };
}

describe("scripts/docker-env.sh: any engine, never replaced", () => {
    it("uses an engine that already answers, through whichever client reaches it, and installs no docker.io", () => {
        const m = machine();
        client(m, path.join(m.bin, "docker"), true);
        const result = run(m, { SLIPWAY_DOCKER: path.join(m.root, "usr", "bin", "docker") });
        assert.ok(!result.installed.includes("docker.io"), `installed ${result.installed.join(" ")}`);
        assert.equal(result.startedDaemon, false);
        assert.equal(result.client, path.join(m.bin, "docker"));
    });

    it("starts Docker CE's daemon from /usr/bin (not Debian's /usr/sbin) instead of installing docker.io over it", () => {
        const m = machine();
        const usrBin = path.join(m.root, "usr", "bin");
        client(m, path.join(usrBin, "docker"));
        executable(path.join(usrBin, "dockerd"), `touch "${m.started}"`);
        const result = run(m, {
            SLIPWAY_DOCKER: path.join(usrBin, "docker"),
            SLIPWAY_DOCKERD_PATH: `${path.join(m.root, "usr", "sbin")}:${usrBin}`,
        });
        assert.ok(!result.installed.includes("docker.io"), `installed ${result.installed.join(" ")}`);
        assert.equal(result.startedDaemon, true, "the installed daemon was started");
        assert.equal(result.client, path.join(usrBin, "docker"));
    });

    it("installs Debian's docker.io only on a machine with no engine at all", () => {
        const m = machine();
        // apt-get cannot really install here: the run then stops at "no dockerd found", after the install.
        assert.throws(() => run(m, { SLIPWAY_DOCKER: path.join(m.root, "usr", "bin", "docker") }), /no dockerd found/);
        assert.match(readFileSync(m.aptLog, "utf8"), /^install .*\bdocker\.io\b/m);
    });
});
