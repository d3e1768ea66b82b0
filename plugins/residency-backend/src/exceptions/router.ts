/*
 * The exception routes of /api/residency (src/schema/openapi.yaml), added to the
 * plugin's validated OpenAPI router: path segments, ids and bodies are checked
 * against the spec before a handler runs (400 otherwise). Handlers are thin:
 * credentials, an audit event per step, the ExceptionService.
 */
import type {
  AuditorService,
  HttpAuthService,
} from '@backstage/backend-plugin-api';
import type { ApiRouter } from '@backstage/backend-openapi-utils';
import type express from 'express';
import type { ResidencyException } from '@residency-dev/plugin-residency-common';
import { entityRefOf } from '../service/validation';
import type { spec } from '../schema/openapi.generated';
import type { ExceptionService } from './ExceptionService';
import type { EntityStateTracker } from './EntityStateTracker';
import type { ResidencyStore } from '../database/ResidencyStore';

/** Largest exception request body (a justification is up to 4000 characters). */
export const EXCEPTION_BODY_LIMIT = '16kb';

/** Does a request go to an exception route (which takes larger bodies)? */
export function isExceptionRoute(path: string): boolean {
  return (
    /^\/exceptions\/[^/]+\/(approve|reject|revoke)$/.test(path) ||
    /^\/entities\/[^/]+\/[^/]+\/[^/]+\/exceptions$/.test(path)
  );
}

/** What the exception routes need. */
export interface ExceptionRoutesOptions {
  service: ExceptionService;
  tracker: EntityStateTracker;
  store: Pick<ResidencyStore, 'getStatus'>;
}

const auditMeta = (e: ResidencyException) => ({
  exceptionId: e.id,
  entityRef: e.entityRef,
  status: e.status,
  reasonCodes: e.reasonCodes,
  digests: e.digests,
  expiresAt: e.expiresAt,
  requestedBy: e.requestedBy,
  ...(e.decidedBy ? { decidedBy: e.decidedBy } : {}),
});

/** Adds the exception routes to the plugin's validated router. */
export function addExceptionRoutes(
  router: ApiRouter<typeof spec>,
  options: ExceptionRoutesOptions & {
    httpAuth: HttpAuthService;
    auditor: AuditorService;
  },
): void {
  const { httpAuth, auditor, service } = options;
  const credentialsOf = (req: express.Request<any, any, any, any>) =>
    httpAuth.credentials(req, { allow: ['user', 'service'] });

  /** Runs a step inside a high-severity audit event (success or failure). */
  const audited = async (
    req: express.Request<any, any, any, any>,
    eventId: string,
    meta: Record<string, string>,
    step: () => Promise<ResidencyException>,
  ): Promise<ResidencyException> => {
    const event = await auditor.createEvent({
      eventId,
      severityLevel: 'high',
      request: req,
      meta,
    });
    try {
      const e = await step();
      await event.success({ meta: auditMeta(e) });
      return e;
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  };

  router.get(
    '/entities/:kind/:namespace/:name/exceptions',
    async (req, res) => {
      const credentials = await credentialsOf(req);
      const entityRef = entityRefOf(req.params);
      const { items, canApprove } = await service.list({
        entityRef,
        credentials,
      });
      const status = await options.store.getStatus({ entityRef });
      const verdict = status
        ? await options.tracker.verdictOf(status)
        : undefined;
      res.setHeader('Cache-Control', 'no-store');
      const principal = credentials.principal as { userEntityRef?: string };
      res.json({
        items,
        canApprove,
        ...(principal.userEntityRef ? { viewer: principal.userEntityRef } : {}),
        ...(verdict ? { verdict } : {}),
      } as any);
    },
  );

  router.post(
    '/entities/:kind/:namespace/:name/exceptions',
    async (req, res) => {
      const credentials = await credentialsOf(req);
      const entityRef = entityRefOf(req.params);
      const body = req.body;
      const e = await audited(req, 'exception-request', { entityRef }, () =>
        service.request({
          entityRef,
          input: {
            reasonCodes: [...body.reasonCodes],
            digests: [...body.digests],
            justification: body.justification,
            reference: body.reference,
            ...(body.expiresAt !== undefined
              ? { expiresAt: body.expiresAt }
              : {}),
          },
          credentials,
        }),
      );
      res.status(201).json(e as any);
    },
  );

  router.post('/exceptions/:id/approve', async (req, res) => {
    const credentials = await credentialsOf(req);
    const id = req.params.id;
    const e = await audited(req, 'exception-approve', { exceptionId: id }, () =>
      service.approve({ id, credentials }),
    );
    res.json(e as any);
  });

  for (const action of ['reject', 'revoke'] as const) {
    router.post(`/exceptions/:id/${action}`, async (req, res) => {
      const credentials = await credentialsOf(req);
      const id = req.params.id;
      const comment = req.body?.comment;
      const e = await audited(
        req,
        `exception-${action}`,
        { exceptionId: id },
        () =>
          service[action]({
            id,
            credentials,
            ...(comment !== undefined ? { comment } : {}),
          }),
      );
      res.json(e as any);
    });
  }
}
