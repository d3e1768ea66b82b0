/*
 * /api/residency exception routes (src/schema/openapi.yaml): thin — read
 * credentials, audit every step, delegate to ExceptionService.
 */
import type {
  AuditorService,
  HttpAuthService,
} from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import express from 'express';
import Router from 'express-promise-router';
import type { ResidencyException } from '@residency-dev/plugin-residency-common';
import { parseEntityPath } from '../service/validation';
import type { ExceptionService } from './ExceptionService';
import type { EntityStateTracker } from './EntityStateTracker';
import type { ResidencyStore } from '../database/ResidencyStore';

const ID = /^[0-9a-f-]{36}$/;

function parseId(id: unknown): string {
  if (typeof id !== 'string' || !ID.test(id))
    throw new NotFoundError('No such exception');
  return id;
}

function optionalComment(body: unknown): string | undefined {
  const c = (body as { comment?: unknown } | undefined)?.comment;
  if (c === undefined) return undefined;
  if (typeof c !== 'string' || c.length > 2000)
    throw new InputError('comment must be a string of at most 2000 characters');
  return c;
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

export async function createExceptionsRouter(options: {
  httpAuth: HttpAuthService;
  auditor: AuditorService;
  service: ExceptionService;
  tracker: EntityStateTracker;
  store: Pick<ResidencyStore, 'getStatus'>;
}): Promise<express.Router> {
  const { httpAuth, auditor, service } = options;
  const router = Router();
  router.use(express.json({ limit: '16kb' }));
  const credentialsOf = (req: express.Request) =>
    httpAuth.credentials(req, { allow: ['user', 'service'] });

  router.get(
    '/entities/:kind/:namespace/:name/exceptions',
    async (req, res) => {
      const credentials = await credentialsOf(req);
      const { entityRef } = parseEntityPath(req.params);
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
      });
    },
  );

  router.post(
    '/entities/:kind/:namespace/:name/exceptions',
    async (req, res) => {
      const credentials = await credentialsOf(req);
      const { entityRef } = parseEntityPath(req.params);
      const event = await auditor.createEvent({
        eventId: 'exception-request',
        severityLevel: 'high',
        request: req,
        meta: { entityRef },
      });
      try {
        const body = req.body ?? {};
        const e = await service.request({
          entityRef,
          input: {
            reasonCodes: body.reasonCodes,
            digests: body.digests,
            justification: body.justification,
            reference: body.reference,
            ...(body.expiresAt !== undefined
              ? { expiresAt: body.expiresAt }
              : {}),
          },
          credentials,
        });
        await event.success({ meta: auditMeta(e) });
        res.status(201).json(e);
      } catch (error) {
        await event.fail({ error: error as Error });
        throw error;
      }
    },
  );

  for (const action of ['approve', 'reject', 'revoke'] as const) {
    router.post(`/exceptions/:id/${action}`, async (req, res) => {
      const credentials = await credentialsOf(req);
      const id = parseId(req.params.id);
      const event = await auditor.createEvent({
        eventId: `exception-${action}`,
        severityLevel: 'high',
        request: req,
        meta: { exceptionId: id },
      });
      try {
        const comment = optionalComment(req.body);
        const e =
          action === 'approve'
            ? await service.approve({ id, credentials })
            : await service[action]({
                id,
                credentials,
                ...(comment !== undefined ? { comment } : {}),
              });
        await event.success({ meta: auditMeta(e) });
        res.json(e);
      } catch (error) {
        await event.fail({ error: error as Error });
        throw error;
      }
    });
  }

  return router;
}
