/**
 * Reading the engine's own event log (`pulumi up --event-log FILE`, one of the CLI's debug commands, turned on by
 * PULUMI_DEBUG_COMMANDS=true as the Automation API does): when a resource's step started and finished.
 */

/** One engine event, as much of it as the suites read. */
export interface EngineEvent {
    /** Seconds since the epoch. */
    timestamp: number;
    resourcePreEvent?: { metadata: { urn: string; op: string } };
    resOutputsEvent?: { metadata: { urn: string; op: string } };
    resOpFailedEvent?: { metadata: { urn: string; op: string } };
    diagnosticEvent?: { urn?: string; message: string; severity: string };
}

/** The events of an event-log file's text, in order. */
export function engineEvents(eventLog: string): EngineEvent[] {
    return eventLog
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as EngineEvent);
}

/**
 * When the step of the resource named `name` (the URN's last part) started and finished, in ms since the epoch: for
 * the app's Deployment this is the rollout, since the provider waits for it. Zeros when the resource had no step.
 */
export function stepWindow(events: EngineEvent[], name: string): { startMs: number; endMs: number } {
    let startMs = 0;
    let endMs = 0;
    for (const e of events) {
        if (e.resourcePreEvent?.metadata.urn.endsWith(`::${name}`)) startMs = e.timestamp * 1000;
        if (e.resOutputsEvent?.metadata.urn.endsWith(`::${name}`)) endMs = e.timestamp * 1000;
    }
    return { startMs, endMs };
}

/** The messages the engine reported with `severity` (error, warning, …) on the resource named `name`. */
export function diagnostics(events: EngineEvent[], name: string, severity: string): string[] {
    return events
        .filter((e) => e.diagnosticEvent?.severity === severity && e.diagnosticEvent.urn?.endsWith(`::${name}`))
        .map((e) => e.diagnosticEvent!.message);
}

/** Names (the URN's last part) of the resources whose step failed. */
export function failedSteps(events: EngineEvent[]): string[] {
    return events.filter((e) => e.resOpFailedEvent).map((e) => e.resOpFailedEvent!.metadata.urn.split("::").pop()!);
}
