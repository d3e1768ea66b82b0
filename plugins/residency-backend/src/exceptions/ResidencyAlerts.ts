/*
 * Alerts through Backstage's notifications service: an entity whose residency got
 * worse, and exceptions about to expire. Each alert is sent once per transition,
 * whichever replica sees it first: the sender first claims a dedup key in the
 * database (primary key), and only the claimant sends.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import type { NotificationService } from '@backstage/plugin-notifications-node';
import type {
  EntityStatus,
  ExceptionVerdict,
  ResidencyException,
  ResidencyState,
} from '@residency-dev/plugin-residency-common';
import type { ExceptionSettings } from './settings';
import type { ExceptionStore } from './ExceptionStore';

const STATE_WORDS: Record<ResidencyState, string> = {
  resident: 'resident',
  resident_by_exception: 'resident by exception',
  not_resident: 'not resident',
  unknown: 'unknown (could not be verified)',
};

/** Link to the entity's Residency tab. */
export function residencyTabLink(baseUrl: string, entityRef: string): string {
  const ref = parseEntityRef(entityRef);
  return `${baseUrl}/catalog/${encodeURIComponent(
    ref.namespace,
  )}/${encodeURIComponent(
    ref.kind.toLocaleLowerCase('en-US'),
  )}/${encodeURIComponent(ref.name)}/residency`;
}

/** The reasons of a verdict as plain sentences (the engine's own messages). */
export function plainReasons(
  status: EntityStatus,
  verdict: ExceptionVerdict,
): string[] {
  const all = [...status.reasons, ...status.images.flatMap(i => i.reasons)];
  const sentences = verdict.uncovered.map(u => {
    const r = all.find(x => x.code === u.code);
    return r?.message ?? `Failed check: ${u.code}.`;
  });
  if (sentences.length === 0 && status.stale && status.lastAttempt)
    sentences.push(...status.lastAttempt.reasons.map(r => r.message));
  return [...new Set(sentences)].slice(0, 10);
}

export class ResidencyAlerts {
  constructor(
    private readonly options: {
      notifications?: NotificationService;
      store: ExceptionStore;
      settings: ExceptionSettings;
      logger: LoggerService;
    },
  ) {}

  /** Sends once per key; returns whether this caller sent it. */
  async #sendOnce(
    key: string,
    send: (n: NotificationService) => Promise<void>,
  ): Promise<boolean> {
    const { notifications, store, logger } = this.options;
    if (!notifications) return false;
    if (!(await store.claimNotification(key))) return false;
    try {
      await send(notifications);
      return true;
    } catch (e) {
      logger.warn(
        `Could not send residency notification ${key}: ${(e as Error).message}`,
      );
      return false;
    }
  }

  /** The entity's residency got worse (transition number `transition`). */
  async worsened(options: {
    status: EntityStatus;
    previous: ResidencyState;
    verdict: ExceptionVerdict;
    transition: number;
  }): Promise<boolean> {
    const { status, previous, verdict, transition } = options;
    const { settings } = this.options;
    const extra = status.tenant ? settings.recipients[status.tenant] ?? [] : [];
    const reasons = plainReasons(status, verdict);
    const name = status.title ?? status.entityRef;
    return this.#sendOnce(`worse:${status.entityRef}:${transition}`, n =>
      n.send({
        recipients: { type: 'entity', entityRef: [status.entityRef, ...extra] },
        payload: {
          title: `${name} is now ${STATE_WORDS[verdict.state]}`,
          description: [
            `Residency changed from ${STATE_WORDS[previous]} to ${
              STATE_WORDS[verdict.state]
            }.`,
            ...reasons,
          ].join(' '),
          link: residencyTabLink(settings.baseUrl, status.entityRef),
          severity: verdict.state === 'not_resident' ? 'high' : 'normal',
          topic: 'residency',
          scope: `residency:${status.entityRef}`,
        },
      }),
    );
  }

  /** An approved exception ends within 48 hours. */
  async expiringSoon(e: ResidencyException): Promise<boolean> {
    const recipients = [e.requestedBy, e.decidedBy].filter((r): r is string =>
      Boolean(r),
    );
    return this.#sendOnce(`expiring:${e.id}`, n =>
      n.send({
        recipients: { type: 'entity', entityRef: recipients },
        payload: {
          title: `Residency exception for ${e.entityRef} expires ${e.expiresAt}`,
          description: `The exception waiving ${e.reasonCodes.join(', ')} (${
            e.reference
          }) ends at ${
            e.expiresAt
          }. After that the entity is decided without it; request a new exception or fix the images.`,
          link: residencyTabLink(this.options.settings.baseUrl, e.entityRef),
          severity: 'normal',
          topic: 'residency-exception',
          scope: `residency-exception:${e.id}`,
        },
      }),
    );
  }
}
