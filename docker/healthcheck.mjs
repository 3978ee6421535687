// The Docker image's HEALTHCHECK: GET /healthz on host.toml's `[host] http` address; exit 0 on 200, else 1 saying
// why. docker/install.mjs copies it beside the installed node_modules, whose @danube-connect/host reads host.toml
// exactly as `danube-connect run` does (environment expansion included), so the check follows the configured port.
//
//   node healthcheck.mjs [host.toml]        (default /config/host.toml)
//
// A HEALTHCHECK runs inside the container's network namespace, so the host's loopback default (127.0.0.1:9464)
// answers it; an unspecified bind address (0.0.0.0, ::) is dialled on loopback. Slim images have no curl.
import { formatProblem, loadHostConfig, reachableAddress } from '@danube-connect/host';

const TIMEOUT_MS = 4_000; // below the Dockerfile's --timeout=5s, so a hung host reads as a failure with a reason

function unhealthy(message) {
  process.stderr.write(`unhealthy: ${message}\n`);
  process.exit(1);
}

const file = process.argv[2] ?? '/config/host.toml';
const loaded = loadHostConfig(file);
if (!loaded.ok) unhealthy(loaded.problems.map(formatProblem).join('; '));
const { host, port } = loaded.config.host.http;
if (port === 0) unhealthy(`[host] http ${host}:0 picks a random port: give it a fixed one for the health check`);
const url = `http://${reachableAddress({ host, port })}/healthz`;
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (response.status !== 200) unhealthy(`${url} answered ${response.status}`);
} catch (err) {
  unhealthy(`${url}: ${err?.cause?.code ?? err?.name ?? 'failed'} ${err?.cause?.message ?? err?.message ?? ''}`.trim());
}
