import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

const MAX_FRAME_BYTES = 16_384; // HTTP/2's default SETTINGS_MAX_FRAME_SIZE, which our client keeps

/** What the proxy did to the response bodies, so a test can show its premise held. */
export interface RechunkingProxy {
  url: string;
  /** Writes that carried two or more whole gRPC messages: they share a DATA frame. */
  sharedFrames: number;
  /** Writes over one frame: cut at 16 KiB boundaries that fall anywhere in a message, its 5-byte prefix included. */
  oversizeWrites: number;
}

function isWholeMessage(chunk: Buffer): boolean {
  return chunk.length >= 5 && chunk.length === 5 + chunk.readUInt32BE(1);
}

/**
 * A plain-text HTTP/2 proxy in front of a broker that re-chunks response bodies as tonic's encoder or an L7
 * proxy may: everything the upstream delivered in one turn of the event loop goes out as one write. A TestBroker
 * (grpc-js) sends each message in DATA frames of its own; through this proxy several messages share a frame and
 * frame boundaries cut messages anywhere. Headers, trailers (and trailers-only responses) and resets pass through.
 * Closed when the test ends.
 */
export async function startRechunkingProxy(upstreamUrl: string): Promise<RechunkingProxy> {
  const upstream = http2.connect(upstreamUrl);
  upstream.on('error', () => undefined);
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const stats: RechunkingProxy = { url: '', sharedFrames: 0, oversizeWrites: 0 };
  server.on('stream', (down, headers) => {
    const forward: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) if (name !== ':authority' && name !== ':scheme') forward[name] = value;
    const up = upstream.request(forward);
    down.on('error', () => undefined);
    up.on('error', () => undefined);
    down.pipe(up);
    down.on('close', () => {
      if (!up.closed) up.close(down.rstCode || http2.constants.NGHTTP2_CANCEL);
    });
    let trailersOnly = false;
    up.on('response', (response) => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(response)) if (!name.startsWith(':') || name === ':status') out[name] = value;
      trailersOnly = response['grpc-status'] !== undefined;
      down.respond(out, trailersOnly ? { endStream: true } : { waitForTrailers: true });
    });
    let pending: Buffer[] = [];
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      if (pending.length === 0 || down.closed) return;
      const data = Buffer.concat(pending);
      if (pending.filter(isWholeMessage).length >= 2 && data.length <= MAX_FRAME_BYTES) stats.sharedFrames++;
      if (data.length > MAX_FRAME_BYTES) stats.oversizeWrites++;
      pending = [];
      down.write(data);
    };
    up.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
    let trailers: http2.OutgoingHttpHeaders = {};
    up.on('trailers', (received) => {
      trailers = {};
      for (const [name, value] of Object.entries(received)) trailers[name] = value as http2.OutgoingHttpHeaders[string];
    });
    up.on('end', () => {
      if (trailersOnly || down.closed) return;
      flush();
      down.once('wantTrailers', () => down.sendTrailers(trailers));
      down.end();
    });
    up.on('close', () => {
      if (up.rstCode && !down.closed) down.close(up.rstCode);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stats.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onTestFinished(async () => {
    upstream.destroy();
    const closed = new Promise((resolve) => server.close(resolve));
    for (const session of sessions) session.destroy();
    await closed;
  });
  return stats;
}
