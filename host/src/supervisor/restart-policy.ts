import type { RestartSettings } from '../connector-spec.js';

/**
 * How an attempt ended, as far as restarting is concerned: `retryable` (crashes, fatal errors, start failures
 * that may pass next time, ready timeouts, hangs, out of memory) or `permanent` (the plugin cannot run as
 * installed and configured: wrong default export, incompatible plugin, kind mismatch, entry import failure;
 * restarting cannot help, so the connector is `failed` at once).
 */
export type CrashKind = 'retryable' | 'permanent';

/** What to do after a crash: restart after `delayMs`, or give up (`failed`) and say why. */
export type RestartDecision =
  | { action: 'restart'; delayMs: number; /** 1 for the first crash since the last reset. */ attempt: number }
  | { action: 'give_up'; reason: 'not_retryable' | 'crash_loop' };

export interface RestartPolicyOptions {
  /** Epoch ms now; default Date.now. */
  clock?: () => number;
  /** In [0, 1); default Math.random. Drives the ±20 % jitter. */
  random?: () => number;
}

/** ±20 % around the nominal delay. */
const JITTER = 0.2;

/**
 * The restart policy of one connector (docs/architecture.md §4 `[host.restart]`; docs/architecture.md §5.6): the delay starts at
 * `initialDelayMs` and doubles per consecutive crash up to `maxDelayMs`, with ±20 % jitter so connectors that
 * crashed together do not restart in lockstep; running for `stableAfterMs` forgets earlier crashes; `maxCrashes`
 * crashes within `windowMs` give up (`failed` until a reload), like VS Code's 3 in 5 minutes and pm2's unstable
 * restarts, but time-based. Pure: time comes from the injected clock, nothing is scheduled here.
 */
export class RestartPolicy {
  private readonly clock: () => number;
  private readonly random: () => number;
  /** Times of the crashes still inside the window. */
  private crashTimes: number[] = [];
  /** Crashes since the last reset: the exponent of the delay. */
  private consecutive = 0;
  private runningSince: number | undefined;

  constructor(
    private settings: RestartSettings,
    options: RestartPolicyOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** New settings (a reload): they apply from the next decision on; the crashes counted so far are kept. */
  configure(settings: RestartSettings): void {
    this.settings = settings;
  }

  /** The child became ready: from now on, running for `stableAfterMs` resets the crash count. */
  running(): void {
    this.runningSince = this.clock();
  }

  /** Crashes counted towards the crash loop right now (within the window, since the last stable run). */
  get crashes(): number {
    this.forgetStable();
    this.forgetOld(this.clock());
    return this.crashTimes.length;
  }

  /** Records a crash (any end the host did not ask for) and decides what comes next. */
  crashed(kind: CrashKind): RestartDecision {
    const now = this.clock();
    this.forgetStable();
    this.runningSince = undefined;
    if (kind === 'permanent') return { action: 'give_up', reason: 'not_retryable' };
    this.forgetOld(now);
    this.crashTimes.push(now);
    this.consecutive += 1;
    if (this.crashTimes.length >= this.settings.maxCrashes) return { action: 'give_up', reason: 'crash_loop' };
    return { action: 'restart', delayMs: this.delayFor(this.consecutive), attempt: this.consecutive };
  }

  /** Forgets every crash (a reload or a manual restart). */
  reset(): void {
    this.crashTimes = [];
    this.consecutive = 0;
    this.runningSince = undefined;
  }

  private delayFor(attempt: number): number {
    const { initialDelayMs, maxDelayMs } = this.settings;
    const nominal = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt - 1, 52));
    const factor = 1 - JITTER + 2 * JITTER * this.random();
    return Math.max(0, Math.round(nominal * factor));
  }

  private forgetStable(): void {
    if (this.runningSince === undefined || this.clock() - this.runningSince < this.settings.stableAfterMs) return;
    this.crashTimes = [];
    this.consecutive = 0;
  }

  private forgetOld(now: number): void {
    this.crashTimes = this.crashTimes.filter((at) => now - at < this.settings.windowMs);
  }
}
