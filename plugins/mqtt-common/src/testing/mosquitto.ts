import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unusedLoopbackPort } from '@danube-connect/testing';

const MOSQUITTO = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

export interface MosquittoTlsListener {
  /** PEM files of the listener. */
  cafile: string;
  certfile: string;
  keyfile: string;
  /** Refuse clients without a certificate signed by `cafile`. */
  requireCertificate?: boolean;
}

export interface MosquittoOptions {
  /**
   * Per-client queue limit for offline/slow persistent sessions. Mosquitto's default (1000) silently drops QoS 1
   * beyond it (docs/delivery-semantics.md §10); tests use an explicit large number (0 = unlimited is broken in several 2.0.x).
   */
  maxQueuedMessages?: number;
  /** Per-client QoS 1/2 in flight towards a client (MQTT 3.1.1; MQTT 5 clients send Receive Maximum). Default 100. */
  maxInflightMessages?: number;
  /** Keep sessions and queued messages across restarts (in its own folder). Default true. */
  persistence?: boolean;
  /** Credentials: anonymous clients are refused when set. */
  users?: Record<string, string>;
  /** A second listener with TLS. */
  tls?: MosquittoTlsListener;
  /** More mosquitto.conf lines. */
  config?: string[];
  /**
   * Leave out this helper's queue, in-flight and persistence settings, so `config` alone decides them (for
   * testing a documented example config, or mosquitto's defaults). `persistence_location` is still set.
   */
  bare?: boolean;
}

/**
 * A real mosquitto on free loopback ports with a generated config, for tests: explicit queue and in-flight
 * limits, persistence in a temporary folder, optional users and a TLS listener. `start` resolves once the broker
 * logged that it runs (its listeners are open by then), never after a guessed sleep.
 */
export class Mosquitto {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly tlsPort: number | undefined,
    private readonly configPath: string,
  ) {}

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'dc-mosquitto-'));
    // Another test's server can take a probed port before mosquitto binds it: then take two new ones.
    for (let attempt = 1; ; attempt++) {
      try {
        return await Mosquitto.launchOnUnusedPorts(dir, options);
      } catch (error) {
        if (attempt === 5 || !String(error).includes('Address already in use')) throw error;
      }
    }
  }

  private static async launchOnUnusedPorts(dir: string, options: MosquittoOptions): Promise<Mosquitto> {
    const port = await unusedLoopbackPort();
    const tlsPort = options.tls ? await unusedLoopbackPort() : undefined;
    const lines = [`listener ${port} 127.0.0.1`];
    if (!options.bare) {
      lines.push(`max_queued_messages ${options.maxQueuedMessages ?? 1_000_000}`, `max_inflight_messages ${options.maxInflightMessages ?? 100}`, 'set_tcp_nodelay true');
    }
    lines.push(
      'log_dest stderr', // unbuffered: stdout to a pipe is flushed only when its buffer is full
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
    );
    // As root mosquitto drops to the "mosquitto" user, which cannot read the test's private temporary folders.
    if (process.getuid?.() === 0) lines.push('user root');
    if (options.bare) lines.push(`persistence_location ${dir}/`);
    else if (options.persistence ?? true) lines.push('persistence true', `persistence_location ${dir}/`, 'autosave_interval 1');
    if (options.users) {
      const passwords = join(dir, 'passwords');
      writeFileSync(passwords, '');
      for (const [user, password] of Object.entries(options.users)) {
        const result = spawnSync('mosquitto_passwd', ['-b', passwords, user, password], { encoding: 'utf8' });
        if (result.status !== 0) throw new Error(`mosquitto_passwd failed: ${result.stderr}`);
      }
      lines.push('allow_anonymous false', `password_file ${passwords}`);
    } else {
      lines.push('allow_anonymous true');
    }
    if (options.tls && tlsPort) {
      lines.push(`listener ${tlsPort} 127.0.0.1`, `cafile ${options.tls.cafile}`, `certfile ${options.tls.certfile}`, `keyfile ${options.tls.keyfile}`);
      if (options.tls.requireCertificate) lines.push('require_certificate true');
    }
    lines.push(...(options.config ?? []));
    const configPath = join(dir, 'mosquitto.conf');
    writeFileSync(configPath, `${lines.join('\n')}\n`);
    const broker = new Mosquitto(dir, port, tlsPort, configPath);
    await broker.launch();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get tlsUrl(): string {
    if (!this.tlsPort) throw new Error('this mosquitto has no TLS listener');
    return `mqtts://127.0.0.1:${this.tlsPort}`;
  }

  /** Everything the broker logged (connections, disconnections, errors). */
  get log(): string {
    return this.output;
  }

  /** The broker's process id while it runs (benchmarks read its CPU time from /proc). */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private launch(): Promise<void> {
    const child = spawn(MOSQUITTO, ['-c', this.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString();
        if (/mosquitto version \S+ running/.test(this.output.slice(this.output.lastIndexOf('starting')))) {
          child.stderr?.off('data', onData);
          child.stderr?.on('data', (more: Buffer) => (this.output += more.toString()));
          resolve();
        }
      };
      child.stderr?.on('data', onData);
      child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`mosquitto exited (code ${code}, signal ${signal}) before it ran:\n${this.output}`)));
    });
  }

  /** SIGTERM (mosquitto saves its persistence file) and wait for the exit. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** SIGKILL: no save. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /**
   * SIGSTOP: the broker freezes with its connections open (the kernel still takes bytes in, nothing is answered),
   * like a broker that hangs; `resume` (SIGCONT) lets it go on where it was.
   */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stop and start again on the same ports and persistence folder. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the broker and removes its folder. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}
