import type { SourceRecord } from '../record.js';

/** How a record left the pipeline: stored in its topic, stored in the dead-letter topic, or skipped as invalid. */
export type RecordOutcome = 'published' | 'dead_lettered' | 'dropped';

/** A record of the source runtime between acceptance and commit. */
export interface InFlightRecord {
  /** Position in acceptance order; commits follow it. */
  seq: number;
  readonly record: SourceRecord;
  readonly topic: string;
  /** performance.now() at acceptance, for the processing-duration histogram. */
  readonly acceptedAt: number;
  /** Publish attempts so far (a dead letter carries it as dc.errors.attempts). */
  attempts: number;
  /** Set once the record is done; commits wait for it. */
  outcome: RecordOutcome | undefined;
  /** Its own `ack` returned (the batch's `commit` may still be pending). */
  acked: boolean;
}
