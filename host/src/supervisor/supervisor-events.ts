import type { ConnectorState, ExitRecord } from './connector-state.js';

/** A connector changed state. */
export interface StateChangeEvent {
  connector: string;
  state: ConnectorState;
  previous: ConnectorState;
  /** Epoch ms. */
  at: number;
  detail: string | undefined;
}

/** A line a child wrote: stdout lines are the plugin's NDJSON logs (each with its `connector`), stderr lines raw text. */
export interface ConnectorLogEvent {
  connector: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** A child ended, and what comes next. */
export interface ConnectorExitEvent {
  connector: string;
  exit: ExitRecord;
  next: 'restart' | 'failed' | 'stopped';
}

/** The events of a Supervisor, by name. */
export interface SupervisorEvents {
  state: StateChangeEvent;
  log: ConnectorLogEvent;
  exit: ConnectorExitEvent;
}

export type SupervisorEventName = keyof SupervisorEvents;
export type SupervisorListener<K extends SupervisorEventName> = (event: SupervisorEvents[K]) => void;
export type EmitSupervisorEvent = <K extends SupervisorEventName>(name: K, event: SupervisorEvents[K]) => void;
