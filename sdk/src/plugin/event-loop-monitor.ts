import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * Event-loop delay of the child, reported with every pong: a loop kept busy by a plugin shows here before
 * pings stop being answered (docs/architecture.md §5.4).
 */
export class EventLoopMonitor {
  private readonly histogram: IntervalHistogram;

  /**
   * `resolutionMs`: sampling interval of the histogram, ms. Each sample wakes an idle child: at 10 ms the histogram
   * alone kept 0.86 % of a core busy in an idle process on the 2-core VM, at 20 ms 0.39 %; a stall worth
   * reporting lasts longer than either.
   */
  constructor(resolutionMs = 20) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  /**
   * The p99 delay in ms since the previous call (or since construction); then starts a new interval. Node
   * drops the first sample after a reset, so a stall within one resolution of the call shows in the next one.
   */
  takeP99Ms(): number {
    const ns = this.histogram.percentile(99);
    this.histogram.reset();
    // An interval without samples reports 0 or NaN depending on the Node version.
    return Number.isFinite(ns) && ns > 0 ? Math.round(ns / 1_000) / 1_000 : 0;
  }

  stop(): void {
    this.histogram.disable();
  }
}
