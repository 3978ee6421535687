import { parseTopicFilter, topicMatches } from '@danube-connect/mqtt';
import type { RouteConfig } from './config.js';

export interface Route extends RouteConfig {
  readonly index: number;
  /** The filter matched against topics (`$share/<group>/` stripped). */
  readonly filter: string;
  /** MQTT 5 subscription identifier of this route's filter (its index + 1). */
  readonly subscriptionId: number;
}

/** Where a PUBLISH goes: a route, nowhere, or nowhere because it is an extra copy of an overlapping subscription. */
export type RouteDecision = { kind: 'route'; route: Route } | { kind: 'unmatched' } | { kind: 'duplicate'; route: Route };

/**
 * The routes in config order; the first whose filter matches a topic wins. With MQTT 5 each filter is subscribed
 * with its own subscription identifier, so a copy the broker sends for a later overlapping subscription (it sends
 * one per matching subscription) is recognised and skipped instead of being published twice.
 */
export class RouteTable {
  readonly routes: readonly Route[];

  constructor(routes: readonly RouteConfig[]) {
    this.routes = routes.map((route, index) => ({ ...route, index, filter: parseTopicFilter(route.from).filter, subscriptionId: index + 1 }));
  }

  /** `subscriptionIds`: the identifiers the broker put on the PUBLISH (MQTT 5), or undefined. */
  decide(topic: string, subscriptionIds: number | number[] | undefined): RouteDecision {
    const route = this.routes.find((r) => topicMatches(r.filter, topic));
    if (!route) return { kind: 'unmatched' };
    if (subscriptionIds === undefined) return { kind: 'route', route };
    const ids = Array.isArray(subscriptionIds) ? subscriptionIds : [subscriptionIds];
    return ids.includes(route.subscriptionId) ? { kind: 'route', route } : { kind: 'duplicate', route };
  }
}
