import type {
  AuditorService,
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { createValidatedOpenApiRouter } from '@backstage/backend-openapi-utils';
import type { JsonObject } from '@backstage/types';
import express from 'express';
import type { ResidencyService } from './ResidencyService';
import { databaseUnavailableHandler } from './unavailable';
import { RefreshThrottledError } from './errors';
import type { VsaStore } from '../vsa/VsaStore';
import { spec } from '../schema/openapi.generated';
import {
  EXCEPTION_BODY_LIMIT,
  addExceptionRoutes,
  isExceptionRoute,
  type ExceptionRoutesOptions,
} from '../exceptions/router';
import {
  entityRefOf,
  evidenceFileName,
  parseLimit,
  parseQuery,
} from './validation';

/** Largest page any list endpoint returns. */
export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 25;
/** Days of compliance history when none are asked for (the spec bounds 1..90). */
const DEFAULT_HISTORY_DAYS = 14;

/**
 * The HTTP API under /api/residency, served from src/schema/openapi.yaml: the
 * validated router rejects a request the spec does not allow (bad path
 * segments, ids, cursors, enums, repeated or unknown query parameters) with an
 * InputError (400) before a handler runs. Handlers are thin: credentials,
 * audit, and the service.
 */
export async function createRouter(options: {
  httpAuth: HttpAuthService;
  auditor: AuditorService;
  logger: LoggerService;
  service: ResidencyService;
  /** Stored VSAs (when residency.vsa is configured). */
  vsa?: Pick<VsaStore, 'listForEvidence'>;
  /** The exception workflow (its routes are served when given). */
  exceptions?: ExceptionRoutesOptions;
}): Promise<express.Router> {
  const { httpAuth, auditor, service, logger } = options;
  // Bodies: 1 kB, except an exception request's justification (up to 4000
  // characters) and a decision's comment.
  const smallBody = express.json({ limit: '1kb' });
  const exceptionBody = express.json({ limit: EXCEPTION_BODY_LIMIT });
  const router = createValidatedOpenApiRouter<typeof spec>(spec, {
    middleware: [
      (req, res, next) =>
        (isExceptionRoute(req.path) ? exceptionBody : smallBody)(
          req,
          res,
          next,
        ),
    ],
  });

  const credentialsOf = (req: express.Request<any, any, any, any>) =>
    httpAuth.credentials(req, { allow: ['user', 'service'] });
  // Bodies go out untyped: the spec's objects are open (extra properties
  // allowed), which types as an index signature the -common interfaces do not
  // declare. router.test.ts checks every response against the spec instead.
  const send = (res: express.Response, body: unknown) => res.json(body);

  /**
   * Runs `action` inside an audit event: the event succeeds with the meta the
   * action returns, or fails with its error, which is thrown on.
   */
  const audited = async <T>(
    req: express.Request<any, any, any, any>,
    event: {
      eventId: string;
      severityLevel: 'low' | 'medium';
      meta: JsonObject;
    },
    action: () => Promise<{ value: T; meta: JsonObject }>,
  ): Promise<T> => {
    const audit = await auditor.createEvent({ ...event, request: req });
    try {
      const { value, meta } = await action();
      await audit.success({ meta });
      return value;
    } catch (error) {
      await audit.fail({ error: error as Error });
      throw error;
    }
  };

  router.get('/entities', async (req, res) => {
    const credentials = await credentialsOf(req);
    const page = await service.listEntities({
      decision: req.query.status,
      state: req.query.state,
      tenant: req.query.tenant,
      q: parseQuery(req.query.q),
      cursor: req.query.cursor,
      limit: parseLimit(req.query.limit, {
        fallback: DEFAULT_PAGE_SIZE,
        max: MAX_PAGE_SIZE,
      }),
      credentials,
    });
    send(res, page);
  });

  router.get('/entities/:kind/:namespace/:name/status', async (req, res) => {
    const credentials = await credentialsOf(req);
    const entityRef = entityRefOf(req.params);
    send(res, await service.getStatus({ entityRef, credentials }));
  });

  router.post('/entities/:kind/:namespace/:name/refresh', async (req, res) => {
    const credentials = await credentialsOf(req);
    const entityRef = entityRefOf(req.params);
    const status = await audited(
      req,
      {
        eventId: 'entity-refresh',
        severityLevel: 'medium',
        meta: { entityRef },
      },
      async () => {
        const value = await service.refresh({ entityRef, credentials });
        // The attempt's outcome, not the status kept from the last good check: a
        // check that could not decide is recorded as such, with its reasons.
        const undecided = value.stale && value.lastAttempt;
        return {
          value,
          meta: {
            decision: undecided ? value.lastAttempt!.decision : value.decision,
            stale: Boolean(undecided),
            reasonCodes: undecided
              ? [...new Set(value.lastAttempt!.reasons.map(r => r.code))]
              : [],
            evidenceId: value.evidenceId ?? null,
          },
        };
      },
    ).catch(error => {
      if (error instanceof RefreshThrottledError) {
        res.setHeader('Retry-After', String(error.retryAfterSeconds));
      }
      throw error;
    });
    send(res, status);
  });

  router.get('/entities/:kind/:namespace/:name/evidence', async (req, res) => {
    const credentials = await credentialsOf(req);
    const entityRef = entityRefOf(req.params);
    send(
      res,
      await service.listEvidence({
        entityRef,
        cursor: req.query.cursor,
        limit: parseLimit(req.query.limit, {
          fallback: DEFAULT_PAGE_SIZE,
          max: MAX_PAGE_SIZE,
        }),
        credentials,
      }),
    );
  });

  router.get(
    '/entities/:kind/:namespace/:name/evidence/verify',
    async (req, res) => {
      const credentials = await credentialsOf(req);
      const entityRef = entityRefOf(req.params);
      send(res, await service.verifyChain({ entityRef, credentials }));
    },
  );

  router.get('/evidence/:id', async (req, res) => {
    const credentials = await credentialsOf(req);
    const id = req.params.id;
    const bundle = await audited(
      req,
      {
        eventId: 'evidence-download',
        // medium like refreshes: the auditor service logs medium at info, so
        // downloads are in the audit trail at default log levels
        severityLevel: 'medium',
        meta: { evidenceId: id },
      },
      async () => {
        const value = await service.getEvidenceBundle({ id, credentials });
        return {
          value,
          meta: {
            entityRef: value.evidence.record.entityRef,
            sequence: value.evidence.sequence,
          },
        };
      },
    );
    const ref = parseEntityRef(bundle.evidence.record.entityRef);
    res.setHeader(
      'Content-Disposition',
      `attachment; filename="${evidenceFileName({
        kind: ref.kind,
        namespace: ref.namespace,
        name: ref.name,
        sequence: bundle.evidence.sequence,
      })}"`,
    );
    res.setHeader('Cache-Control', 'no-store');
    send(res, bundle);
  });

  // The VSAs of an evidence record; authorised exactly like the record's download
  // (the same service call), audited through the same audited() with its own
  // event: the two handlers differ only in what they answer.
  router.get('/evidence/:id/vsa', async (req, res) => {
    const credentials = await credentialsOf(req);
    const id = req.params.id;
    const body = await audited(
      req,
      {
        eventId: 'vsa-download',
        severityLevel: 'low',
        meta: { evidenceId: id },
      },
      async () => {
        await service.getEvidenceBundle({ id, credentials });
        const items =
          (await options.vsa?.listForEvidence({ evidenceId: id })) ?? [];
        const value = {
          items: items.map(v => ({
            digest: v.digest,
            verificationResult: v.verificationResult,
            timeVerified: v.timeVerified,
            keyFingerprint: v.keyFingerprint,
            envelope: JSON.parse(v.envelope),
            bundle: JSON.parse(v.bundle),
          })),
        };
        return { value, meta: { count: items.length } };
      },
    );
    res.setHeader('Cache-Control', 'no-store');
    send(res, body);
  });

  router.get('/tenants', async (req, res) => {
    const credentials = await credentialsOf(req);
    send(res, await service.listTenants({ credentials }));
  });

  router.get('/mismatches', async (req, res) => {
    const credentials = await credentialsOf(req);
    send(
      res,
      await service.listMismatches({
        tenant: req.query.tenant,
        credentials,
      }),
    );
  });

  router.get('/compliance/history', async (req, res) => {
    const credentials = await credentialsOf(req);
    send(
      res,
      await service.getComplianceHistory({
        // The validator has parsed the text into a number within the spec's bounds.
        days: Number(req.query.days ?? DEFAULT_HISTORY_DAYS),
        credentials,
      }),
    );
  });

  if (options.exceptions) {
    addExceptionRoutes(router, { ...options.exceptions, httpAuth, auditor });
  }

  router.use(databaseUnavailableHandler({ logger }));

  return router;
}
