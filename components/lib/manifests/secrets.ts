/**
 * Bodies of Secrets Slipway creates itself.
 */
import type { RegistryCredentials } from "../../../contracts";

/** The `.dockerconfigjson` of an image pull secret. */
export function dockerConfigJson(c: RegistryCredentials): string {
    const auth = Buffer.from(`${c.username}:${c.password}`).toString("base64");
    return JSON.stringify({ auths: { [c.server]: { username: c.username, password: c.password, auth } } });
}
