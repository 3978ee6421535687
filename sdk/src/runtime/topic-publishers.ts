import type { SourceProducers, TopicSettings } from './source-producers.js';
import { TopicPublisher, type PublisherEvents } from './topic-publisher.js';
import type { RetrySettings } from './retry-settings.js';

/** Publishers (and producers) cached at most beyond the busy ones, for topics not listed in producerConfigs(). */
export const MAX_CACHED_TOPICS = 256;

interface TopicPublishersOptions {
  producers: SourceProducers;
  settings: RetrySettings;
  /** A dead-letter topic is set and on_retry_exhausted = "dead_letter". */
  deadLetterWhenExhausted: boolean;
  signal: AbortSignal;
  events: Omit<PublisherEvents, 'retired'>;
}

/**
 * The source's publisher per topic, bounded: past MAX_CACHED_TOPICS the least recently used idle publishers of
 * topics not listed are closed with their producers and forgotten (their next record creates them again). A
 * busy publisher holds a record, so at most maxInFlight more exist: memory stays bounded however many topics a
 * source makes up (one per device, say).
 */
export class TopicPublishers {
  /** In use order: the least recently used first. */
  private readonly publishers = new Map<string, TopicPublisher>();
  private readonly events: PublisherEvents;

  constructor(private readonly options: TopicPublishersOptions) {
    this.events = {
      ...options.events,
      // A blocked topic whose records went to the dead-letter path: its next record starts a new round.
      retired: (topic) => this.forget(topic),
    };
  }

  /** Publishers cached. */
  get size(): number {
    return this.publishers.size;
  }

  /** The topic's publisher, created (after making room) on first use. */
  for(settings: TopicSettings): TopicPublisher {
    let publisher = this.publishers.get(settings.topic);
    if (publisher) {
      this.publishers.delete(settings.topic);
      this.publishers.set(settings.topic, publisher);
      return publisher;
    }
    this.evictIdle();
    const { producers, settings: retry, deadLetterWhenExhausted, signal } = this.options;
    publisher = new TopicPublisher({
      topic: settings.topic,
      create: () => producers.create(settings.topic),
      lazy: !settings.listed,
      deadLetterWhenExhausted,
      settings: retry,
      signal,
      events: this.events,
    });
    this.publishers.set(settings.topic, publisher);
    return publisher;
  }

  /** Stops every publisher: queued and failed records stay uncommitted. */
  closeAll(): void {
    for (const publisher of this.publishers.values()) publisher.close();
  }

  private evictIdle(): void {
    for (const [topic, publisher] of this.publishers) {
      if (this.publishers.size < MAX_CACHED_TOPICS) return;
      if (!publisher.idle || this.options.producers.isListed(topic)) continue;
      publisher.close();
      this.forget(topic);
    }
  }

  private forget(topic: string): void {
    this.publishers.delete(topic);
    this.options.producers.evict(topic);
  }
}
