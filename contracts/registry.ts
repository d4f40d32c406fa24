/** Credentials for pushing to (and, where the cluster needs them, pulling from) a registry. */
export interface RegistryCredentials {
    /** Registry host, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com` or `registry.example.com:5000`. */
    server: string;
    username: string;
    password: string;
}
