/**
 * Injected faults of a TestBroker: a window during which client-port RPCs answer UNAVAILABLE, a window during
 * which SendMessage is refused with a given text, and a delay applied to SendMessage responses.
 */
export class FaultState {
  /** Epoch ms; client-port RPCs fail until then. */
  unavailableUntil = 0;
  /** Epoch ms; SendMessage is refused with `sendRejection` until then. */
  rejectSendsUntil = 0;
  sendRejection = '';
  ackDelayMs = 0;
  /** Consumer Acks are neither applied nor answered while set; `heldAcks` run them in arrival order. */
  holdingAcks = false;
  readonly heldAcks: Array<() => void> = [];
  private readonly held = new Map<NodeJS.Timeout, () => void>();

  get unavailable(): boolean {
    return this.unavailableUntil !== 0 && Date.now() < this.unavailableUntil;
  }

  /** The text after "Unable to publish the message: " while sends are refused, else undefined. */
  get rejectingSends(): string | undefined {
    return this.rejectSendsUntil !== 0 && Date.now() < this.rejectSendsUntil ? this.sendRejection : undefined;
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
    this.releaseAcks();
  }

  /** Applies and answers the held Acks, in arrival order, and stops holding. */
  releaseAcks(): void {
    this.holdingAcks = false;
    for (const ack of this.heldAcks.splice(0)) ack();
  }
}
