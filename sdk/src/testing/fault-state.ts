/**
 * Injected faults of a TestBroker: a window during which client-port RPCs answer UNAVAILABLE, and a delay
 * applied to SendMessage responses.
 */
export class FaultState {
  /** Epoch ms; client-port RPCs fail until then. */
  unavailableUntil = 0;
  ackDelayMs = 0;
  private readonly held = new Map<NodeJS.Timeout, () => void>();

  get unavailable(): boolean {
    return this.unavailableUntil !== 0 && Date.now() < this.unavailableUntil;
  }

  /** Sends a SendMessage response now, or after the injected delay. */
  reply(send: () => void): void {
    if (this.ackDelayMs <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.held.delete(timer);
      send();
    }, this.ackDelayMs).unref();
    this.held.set(timer, send);
  }

  /** On stop: responses still held back are sent at once, so no call and no timer outlives the broker. */
  releaseAll(): void {
    for (const [timer, send] of this.held) {
      clearTimeout(timer);
      send();
    }
    this.held.clear();
  }
}
