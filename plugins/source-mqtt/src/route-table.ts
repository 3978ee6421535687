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
 * Topics whose route is remembered. Devices publish to the same topics over and over, so matching every filter
 * against every message (two splits per filter) would redo the same work per message; past this many distinct
 * topics the memory starts over, which bounds it whatever the topic space.
 */
const REMEMBERED_TOPICS = 4096;
const UNMATCHED: RouteDecision = Object.freeze({ kind: 'unmatched' });

/**
 * The routes in config order; the first whose filter matches a topic wins. With MQTT 5 each filter is subscribed
 * with its own subscription identifier, so a copy the broker sends for a later overlapping subscription (it sends
 * one per matching subscription) is recognised and skipped instead of being published twice.
 */
export class RouteTable {
  readonly routes: readonly Route[];
  /** Per route index: its 'route' and 'duplicate' decisions, built once. */
  private readonly decisions: readonly { route: RouteDecision; duplicate: RouteDecision }[];
  /** Topic → index of its route, or -1 for none (see REMEMBERED_TOPICS). */
  private readonly remembered = new Map<string, number>();

  constructor(routes: readonly RouteConfig[]) {
    this.routes = routes.map((route, index) => ({ ...route, index, filter: parseTopicFilter(route.from).filter, subscriptionId: index + 1 }));
    this.decisions = this.routes.map((route) => ({ route: Object.freeze({ kind: 'route', route }), duplicate: Object.freeze({ kind: 'duplicate', route }) }));
  }

  private routeIndex(topic: string): number {
    let index = this.remembered.get(topic);
    if (index === undefined) {
      index = this.routes.findIndex((r) => topicMatches(r.filter, topic));
      if (this.remembered.size >= REMEMBERED_TOPICS) this.remembered.clear();
      this.remembered.set(topic, index);
    }
    return index;
  }

  /** `subscriptionIds`: the identifiers the broker put on the PUBLISH (MQTT 5), or undefined. */
  decide(topic: string, subscriptionIds: number | number[] | undefined): RouteDecision {
    const index = this.routeIndex(topic);
    if (index < 0) return UNMATCHED;
    const decisions = this.decisions[index] as { route: RouteDecision; duplicate: RouteDecision };
    if (subscriptionIds === undefined) return decisions.route;
    const id = index + 1;
    const routed = Array.isArray(subscriptionIds) ? subscriptionIds.includes(id) : subscriptionIds === id;
    return routed ? decisions.route : decisions.duplicate;
  }
}
