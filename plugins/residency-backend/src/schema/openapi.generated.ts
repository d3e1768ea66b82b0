// GENERATED from openapi.yaml by scripts/openapi-module.js; do not edit.
// Run `node scripts/openapi-module.js` in plugins/residency-backend after
// changing the yaml (openapi.test.ts checks the two agree).

/* eslint-disable */
export const spec = {
  openapi: '3.0.3',
  info: {
    title: 'residency',
    version: '1',
    description:
      'Residency backend API: the residency status of catalog entities, their hash-chained evidence, tenants and tenant/region mismatches. Every route needs Backstage credentials (401 without). Status follows catalog read access (404 when the caller cannot see the entity); evidence needs residency.evidence.read, refresh needs residency.refresh, tenants and mismatches need residency.tenants.read (403).',
    license: {
      name: 'Apache-2.0',
      url: 'http://www.apache.org/licenses/LICENSE-2.0.html',
    },
  },
  servers: [
    {
      url: '/',
    },
  ],
  paths: {
    '/entities': {
      get: {
        operationId: 'ListEntities',
        description:
          'Paginated list of entity statuses, ordered by entity ref.',
        parameters: [
          {
            name: 'status',
            in: 'query',
            required: false,
            schema: {
              $ref: '#/components/schemas/Decision',
            },
          },
          {
            name: 'state',
            in: 'query',
            required: false,
            description:
              'The state shown to people: resident_by_exception counts apart from not_resident (which covers non_compliant and invalid decisions not waived by exceptions in force).',
            schema: {
              type: 'string',
              enum: [
                'resident',
                'resident_by_exception',
                'not_resident',
                'unknown',
              ],
            },
          },
          {
            name: 'tenant',
            in: 'query',
            required: false,
            schema: {
              $ref: '#/components/schemas/TenantId',
            },
          },
          {
            name: 'q',
            in: 'query',
            required: false,
            description:
              'Case-insensitive substring of the entity ref or title, printable characters only.',
            schema: {
              type: 'string',
              maxLength: 200,
              pattern: '^[^\\u0000-\\u001f\\u007f]*$',
            },
          },
          {
            $ref: '#/components/parameters/cursor',
          },
          {
            $ref: '#/components/parameters/limit',
          },
        ],
        responses: {
          '200': {
            description: 'A page of statuses.',
            content: {
              'application/json': {
                schema: {
                  $ref: '#/components/schemas/EntityStatusSummaryPage',
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '503': {
            $ref: '#/components/responses/DatabaseUnavailable',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/entities/{kind}/{namespace}/{name}/status': {
      get: {
        operationId: 'GetEntityStatus',
        description:
          'Decision, reasons, per-image detail and staleness of one entity.',
        parameters: [
          {
            $ref: '#/components/parameters/kind',
          },
          {
            $ref: '#/components/parameters/namespace',
          },
          {
            $ref: '#/components/parameters/name',
          },
        ],
        responses: {
          '200': {
            description: 'The status.',
            content: {
              'application/json': {
                schema: {
                  $ref: '#/components/schemas/EntityStatus',
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '503': {
            $ref: '#/components/responses/DatabaseUnavailable',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/entities/{kind}/{namespace}/{name}/refresh': {
      post: {
        operationId: 'RefreshEntity',
        description:
          'Verifies the entity now and returns the new status. Audited.',
        parameters: [
          {
            $ref: '#/components/parameters/kind',
          },
          {
            $ref: '#/components/parameters/namespace',
          },
          {
            $ref: '#/components/parameters/name',
          },
        ],
        responses: {
          '200': {
            description: 'The new status.',
            content: {
              'application/json': {
                schema: {
                  $ref: '#/components/schemas/EntityStatus',
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '429': {
            $ref: '#/components/responses/RefreshThrottled',
          },
          '503': {
            $ref: '#/components/responses/DatabaseUnavailable',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/entities/{kind}/{namespace}/{name}/evidence': {
      get: {
        operationId: 'ListEntityEvidence',
        description: "The entity's evidence history, newest first.",
        parameters: [
          {
            $ref: '#/components/parameters/kind',
          },
          {
            $ref: '#/components/parameters/namespace',
          },
          {
            $ref: '#/components/parameters/name',
          },
          {
            $ref: '#/components/parameters/cursor',
          },
          {
            $ref: '#/components/parameters/limit',
          },
        ],
        responses: {
          '200': {
            description: 'A page of evidence summaries.',
            content: {
              'application/json': {
                schema: {
                  $ref: '#/components/schemas/EvidenceSummaryPage',
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '503': {
            $ref: '#/components/responses/DatabaseUnavailable',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/entities/{kind}/{namespace}/{name}/evidence/verify': {
      get: {
        operationId: 'VerifyEntityEvidence',
        description:
          "Recomputes the entity's evidence chain and reports the first broken link.",
        parameters: [
          {
            $ref: '#/components/parameters/kind',
          },
          {
            $ref: '#/components/parameters/namespace',
          },
          {
            $ref: '#/components/parameters/name',
          },
        ],
        responses: {
          '200': {
            description: 'The chain verification.',
            content: {
              'application/json': {
                schema: {
                  $ref: '#/components/schemas/ChainVerification',
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '503': {
            $ref: '#/components/responses/DatabaseUnavailable',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/evidence/{id}': {
      get: {
        operationId: 'DownloadEvidence',
        description:
          'The evidence bundle, served as an attachment named residency-evidence-<kind>-<namespace>-<name>-<sequence>.json. Audited.',
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            schema: {
              type: 'string',
              pattern: '^[0-9a-f]{32}$',
            },
          },
        ],
        responses: {
          '200': {
            description: 'The bundle.',
            headers: {
              'Content-Disposition': {
                schema: {
                  type: 'string',
                },
                description:
                  'attachment; filename="residency-evidence-...json"',
              },
            },
            content: {
              'application/json': {
                schema: {
                  $ref: '#/components/schemas/EvidenceBundle',
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '503': {
            $ref: '#/components/responses/DatabaseUnavailable',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/evidence/{id}/vsa': {
      get: {
        operationId: 'GetEvidenceVsas',
        description:
          'The signed SLSA verification summaries (VSA v1) of an evidence record, one per decided image digest, each as a DSSE envelope (as cosign attest writes it) and a Sigstore bundle v0.3. Empty when residency.vsa is not configured. Authorised like the evidence download. Audited.',
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            schema: {
              type: 'string',
              pattern: '^[0-9a-f]{32}$',
            },
          },
        ],
        responses: {
          '200': {
            description: 'The VSAs.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['items'],
                  properties: {
                    items: {
                      type: 'array',
                      items: {
                        type: 'object',
                        required: [
                          'digest',
                          'verificationResult',
                          'timeVerified',
                          'keyFingerprint',
                          'envelope',
                          'bundle',
                        ],
                        properties: {
                          digest: {
                            type: 'string',
                          },
                          verificationResult: {
                            type: 'string',
                            enum: ['PASSED', 'FAILED'],
                          },
                          timeVerified: {
                            type: 'string',
                            format: 'date-time',
                          },
                          keyFingerprint: {
                            type: 'string',
                          },
                          envelope: {
                            type: 'object',
                          },
                          bundle: {
                            type: 'object',
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/tenants': {
      get: {
        operationId: 'ListTenants',
        description:
          'Every tenant with boundary, registries, keys and entity counts per decision.',
        responses: {
          '200': {
            description: 'The tenants.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['items'],
                  properties: {
                    items: {
                      type: 'array',
                      items: {
                        $ref: '#/components/schemas/TenantSummary',
                      },
                    },
                  },
                },
              },
            },
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '503': {
            $ref: '#/components/responses/DatabaseUnavailable',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/mismatches': {
      get: {
        operationId: 'ListMismatches',
        description:
          'Tenant/region mismatches across the catalog (at most 1000).',
        parameters: [
          {
            name: 'tenant',
            in: 'query',
            required: false,
            schema: {
              $ref: '#/components/schemas/TenantId',
            },
          },
        ],
        responses: {
          '200': {
            description: 'The mismatches.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['items'],
                  properties: {
                    items: {
                      type: 'array',
                      items: {
                        $ref: '#/components/schemas/Mismatch',
                      },
                    },
                  },
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '503': {
            $ref: '#/components/responses/DatabaseUnavailable',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/compliance/history': {
      get: {
        operationId: 'GetComplianceHistory',
        description:
          'For each of the last `days` UTC days, how many entities were resident, not resident or unknown at the end of that day (their latest evidence record by then), and how many had no evidence yet. Needs the tenants permission.',
        parameters: [
          {
            name: 'days',
            in: 'query',
            required: false,
            schema: {
              type: 'integer',
              minimum: 1,
              maximum: 90,
              default: 14,
            },
          },
        ],
        responses: {
          '200': {
            description: 'One entry per day, oldest first.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['days'],
                  properties: {
                    days: {
                      type: 'array',
                      items: {
                        type: 'object',
                        required: [
                          'day',
                          'resident',
                          'notResident',
                          'unknown',
                          'unchecked',
                        ],
                        properties: {
                          day: {
                            type: 'string',
                            description: 'YYYY-MM-DD (UTC)',
                          },
                          resident: {
                            type: 'integer',
                          },
                          notResident: {
                            type: 'integer',
                          },
                          unknown: {
                            type: 'integer',
                          },
                          unchecked: {
                            type: 'integer',
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/entities/{kind}/{namespace}/{name}/exceptions': {
      get: {
        operationId: 'ListEntityExceptions',
        description:
          "The entity's exceptions (newest first), whether the caller may approve them, and the current verdict with exceptions applied (`resident_by_exception` lists what was waived, by whom, until when). Follows catalog read access.",
        parameters: [
          {
            $ref: '#/components/parameters/kind',
          },
          {
            $ref: '#/components/parameters/namespace',
          },
          {
            $ref: '#/components/parameters/name',
          },
        ],
        responses: {
          '200': {
            description: 'The exceptions.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['items', 'canApprove'],
                  properties: {
                    items: {
                      type: 'array',
                      items: {
                        $ref: '#/components/schemas/ResidencyException',
                      },
                    },
                    canApprove: {
                      type: 'boolean',
                    },
                    viewer: {
                      type: 'string',
                      description: 'The caller (a user entity ref)',
                    },
                    verdict: {
                      $ref: '#/components/schemas/ExceptionVerdict',
                    },
                  },
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
      post: {
        operationId: 'RequestEntityException',
        description:
          "Requests an exception (needs `residency.refresh` on the entity). Covers named reason codes (never all; I/O and input failures cannot be waived) for named digests of the entity's current images, until `expiresAt` (default and maximum: the tenant's longest window, 7 days unless configured). Audited.",
        parameters: [
          {
            $ref: '#/components/parameters/kind',
          },
          {
            $ref: '#/components/parameters/namespace',
          },
          {
            $ref: '#/components/parameters/name',
          },
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: [
                  'reasonCodes',
                  'digests',
                  'justification',
                  'reference',
                ],
                properties: {
                  reasonCodes: {
                    type: 'array',
                    minItems: 1,
                    maxItems: 16,
                    items: {
                      type: 'string',
                    },
                  },
                  digests: {
                    type: 'array',
                    minItems: 1,
                    maxItems: 32,
                    items: {
                      type: 'string',
                      pattern: '^sha256:[0-9a-f]{64}$',
                    },
                  },
                  justification: {
                    type: 'string',
                    minLength: 3,
                    maxLength: 4000,
                  },
                  reference: {
                    type: 'string',
                    minLength: 3,
                    maxLength: 500,
                  },
                  expiresAt: {
                    type: 'string',
                    format: 'date-time',
                  },
                },
              },
            },
          },
        },
        responses: {
          '201': {
            description: 'The requested exception.',
            content: {
              'application/json': {
                schema: {
                  $ref: '#/components/schemas/ResidencyException',
                },
              },
            },
          },
          '400': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/exceptions/{id}/approve': {
      post: {
        operationId: 'ApproveException',
        description:
          'Approves a requested exception: needs `residency.exception.approve` on the entity and never the requester (403). Signs the in-toto exception statement with the portal key and re-decides the entity at once. Audited.',
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            schema: {
              type: 'string',
              pattern: '^[0-9a-f-]{36}$',
            },
          },
        ],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  comment: {
                    type: 'string',
                    maxLength: 2000,
                  },
                },
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'The exception after the step.',
            content: {
              'application/json': {
                schema: {
                  $ref: '#/components/schemas/ResidencyException',
                },
              },
            },
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '409': {
            $ref: '#/components/responses/ErrorResponse',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/exceptions/{id}/reject': {
      post: {
        operationId: 'RejectException',
        description:
          'Rejects a requested exception (same rule as approve). Audited.',
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            schema: {
              type: 'string',
              pattern: '^[0-9a-f-]{36}$',
            },
          },
        ],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  comment: {
                    type: 'string',
                    maxLength: 2000,
                  },
                },
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'The exception after the step.',
            content: {
              'application/json': {
                schema: {
                  $ref: '#/components/schemas/ResidencyException',
                },
              },
            },
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '409': {
            $ref: '#/components/responses/ErrorResponse',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
    '/exceptions/{id}/revoke': {
      post: {
        operationId: 'RevokeException',
        description:
          'Revokes a requested or approved exception (an approver, or the requester withdrawing it) and re-decides the entity at once. Audited.',
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            schema: {
              type: 'string',
              pattern: '^[0-9a-f-]{36}$',
            },
          },
        ],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  comment: {
                    type: 'string',
                    maxLength: 2000,
                  },
                },
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'The exception after the step.',
            content: {
              'application/json': {
                schema: {
                  $ref: '#/components/schemas/ResidencyException',
                },
              },
            },
          },
          '401': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '403': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '404': {
            $ref: '#/components/responses/ErrorResponse',
          },
          '409': {
            $ref: '#/components/responses/ErrorResponse',
          },
        },
        security: [
          {},
          {
            JWT: [],
          },
        ],
      },
    },
  },
  components: {
    securitySchemes: {
      JWT: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
      },
    },
    parameters: {
      kind: {
        name: 'kind',
        in: 'path',
        required: true,
        schema: {
          type: 'string',
          pattern: '^[A-Za-z][A-Za-z0-9-]{0,62}$',
        },
      },
      namespace: {
        name: 'namespace',
        in: 'path',
        required: true,
        schema: {
          $ref: '#/components/schemas/EntityNamePart',
        },
      },
      name: {
        name: 'name',
        in: 'path',
        required: true,
        schema: {
          $ref: '#/components/schemas/EntityNamePart',
        },
      },
      cursor: {
        name: 'cursor',
        in: 'query',
        required: false,
        schema: {
          type: 'string',
          pattern: '^[A-Za-z0-9_-]{1,2048}$',
        },
      },
      limit: {
        name: 'limit',
        in: 'query',
        required: false,
        description: 'Page size, default 25; larger values are capped at 100.',
        schema: {
          type: 'integer',
          minimum: 1,
        },
      },
    },
    responses: {
      RefreshThrottled: {
        description:
          'A refresh of this entity is already running, or the caller asked for more than the per-user limit (10 per minute by default).',
        headers: {
          'Retry-After': {
            description: 'Seconds to wait before asking again.',
            schema: {
              type: 'integer',
            },
          },
        },
        content: {
          'application/json': {
            schema: {
              $ref: '#/components/schemas/Error',
            },
          },
        },
      },
      DatabaseUnavailable: {
        description:
          'The database is unreachable (ServiceUnavailableError). The body is generic; the detail is logged.',
        headers: {
          'Retry-After': {
            description: 'Seconds to wait before retrying.',
            schema: {
              type: 'integer',
            },
          },
        },
        content: {
          'application/json': {
            schema: {
              $ref: '#/components/schemas/Error',
            },
          },
        },
      },
      ErrorResponse: {
        description:
          'A Backstage error (InputError 400, AuthenticationError 401, NotAllowedError 403, NotFoundError 404).',
        content: {
          'application/json': {
            schema: {
              $ref: '#/components/schemas/Error',
            },
          },
        },
      },
    },
    schemas: {
      ResidencyException: {
        type: 'object',
        required: [
          'id',
          'entityRef',
          'status',
          'reasonCodes',
          'digests',
          'justification',
          'reference',
          'requestedBy',
          'requestedAt',
          'expiresAt',
        ],
        properties: {
          id: {
            type: 'string',
          },
          entityRef: {
            type: 'string',
          },
          status: {
            type: 'string',
            enum: ['requested', 'approved', 'rejected', 'revoked', 'expired'],
          },
          reasonCodes: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
          digests: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
          justification: {
            type: 'string',
          },
          reference: {
            type: 'string',
          },
          requestedBy: {
            type: 'string',
          },
          requestedAt: {
            type: 'string',
          },
          expiresAt: {
            type: 'string',
          },
          decidedBy: {
            type: 'string',
          },
          decidedAt: {
            type: 'string',
          },
          comment: {
            type: 'string',
          },
          envelope: {
            type: 'string',
            description:
              'Signed in-toto statement (DSSE envelope JSON), predicate https://residency.dev/exception/v1',
          },
          keyFingerprint: {
            type: 'string',
          },
          publicKeyPem: {
            type: 'string',
            description: 'The public key that signed the envelope (SPKI PEM)',
          },
        },
      },
      ExceptionVerdict: {
        type: 'object',
        required: ['state', 'waived', 'uncovered'],
        properties: {
          state: {
            type: 'string',
            enum: [
              'resident',
              'resident_by_exception',
              'not_resident',
              'unknown',
            ],
          },
          validUntil: {
            type: 'string',
          },
          waived: {
            type: 'array',
            items: {
              type: 'object',
              required: [
                'exceptionId',
                'digest',
                'reasonCodes',
                'requestedBy',
                'approvedBy',
                'expiresAt',
              ],
              properties: {
                exceptionId: {
                  type: 'string',
                },
                digest: {
                  type: 'string',
                },
                reasonCodes: {
                  type: 'array',
                  items: {
                    type: 'string',
                  },
                },
                requestedBy: {
                  type: 'string',
                },
                approvedBy: {
                  type: 'string',
                },
                expiresAt: {
                  type: 'string',
                },
              },
            },
          },
          uncovered: {
            type: 'array',
            items: {
              type: 'object',
              required: ['code'],
              properties: {
                digest: {
                  type: 'string',
                },
                code: {
                  type: 'string',
                },
              },
            },
          },
        },
      },
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['name', 'message'],
            properties: {
              name: {
                type: 'string',
              },
              message: {
                type: 'string',
              },
            },
          },
          request: {
            type: 'object',
            properties: {
              method: {
                type: 'string',
              },
              url: {
                type: 'string',
              },
            },
          },
          response: {
            type: 'object',
            properties: {
              statusCode: {
                type: 'number',
              },
            },
          },
        },
      },
      EntityNamePart: {
        type: 'string',
        pattern: '^[A-Za-z0-9](?:[A-Za-z0-9]|[-_.](?=[A-Za-z0-9])){0,252}$',
      },
      TenantId: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
      },
      Decision: {
        type: 'string',
        enum: ['compliant', 'non_compliant', 'unknown', 'invalid'],
      },
      Reason: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: {
            type: 'string',
          },
          message: {
            type: 'string',
          },
          details: {
            type: 'object',
            additionalProperties: {},
          },
        },
      },
      Boundary: {
        type: 'object',
        required: ['name', 'regions'],
        properties: {
          name: {
            type: 'string',
          },
          regions: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
        },
      },
      VerifiedKey: {
        type: 'object',
        required: ['id', 'fingerprint', 'region'],
        properties: {
          id: {
            type: 'string',
          },
          fingerprint: {
            type: 'string',
          },
          region: {
            type: 'string',
          },
        },
      },
      SignatureResult: {
        type: 'object',
        required: ['format', 'source', 'verified'],
        properties: {
          format: {
            type: 'string',
            enum: ['simplesigning', 'sigstore-bundle'],
          },
          source: {
            type: 'string',
            enum: ['cosign-tag', 'referrers', 'layout'],
          },
          verified: {
            type: 'boolean',
          },
          key: {
            $ref: '#/components/schemas/VerifiedKey',
          },
          identity: {
            type: 'object',
            properties: {
              subject: {
                type: 'string',
              },
              issuer: {
                type: 'string',
              },
            },
          },
          error: {
            $ref: '#/components/schemas/Reason',
          },
          ignored: {
            type: 'string',
            description:
              'Set when no configured key or identity signed it; it does not change the decision.',
          },
        },
      },
      AttestationResult: {
        type: 'object',
        required: ['kind', 'predicateType', 'source', 'verified'],
        properties: {
          kind: {
            type: 'string',
            enum: ['provenance', 'sbom', 'residency', 'other'],
          },
          predicateType: {
            type: 'string',
          },
          source: {
            type: 'string',
            enum: ['cosign-tag', 'referrers', 'layout'],
          },
          verified: {
            type: 'boolean',
          },
          key: {
            $ref: '#/components/schemas/VerifiedKey',
          },
          facts: {
            type: 'object',
            additionalProperties: {},
          },
          error: {
            $ref: '#/components/schemas/Reason',
          },
          ignored: {
            type: 'string',
            description:
              'Set when no configured key or identity signed it; it does not change the decision.',
          },
          signedAt: {
            type: 'string',
            format: 'date-time',
            description:
              'Trustworthy signed time (transparency log or RFC 3161 timestamp), when it has one.',
          },
          superseded: {
            type: 'string',
            description:
              'Set (e.g. `attestations[2]`) when a newer verified attestation of the same kind decides instead.',
          },
        },
      },
      VerificationCheck: {
        type: 'object',
        description:
          'One check the engine performed (schema https://residency.dev/verification-report/v1, plugins/residency-common/schema/verification-report.v1.json).',
        required: ['id', 'outcome'],
        properties: {
          id: {
            type: 'string',
            enum: [
              'tenant_known',
              'images_listed',
              'declared_region',
              'reference_parsed',
              'registry_allowed',
              'registry_region',
              'tag_resolved',
              'manifest_hashed',
              'discovery',
              'material_parsed',
              'signature_verified',
              'certificate_chain',
              'identity',
              'transparency_log',
              'timestamp',
              'key_validity',
              'key_region',
              'statement_parsed',
              'subject_digest',
              'predicate_external_references',
              'predicate_regions',
              'attestation_freshness',
              'attestation_newest',
              'requirement',
              'tenant_rule',
            ],
          },
          outcome: {
            type: 'string',
            enum: ['pass', 'fail', 'skipped', 'not_applicable'],
          },
          why: {
            type: 'string',
            description: 'Why a check was skipped or is not applicable.',
          },
          expected: {
            type: 'string',
          },
          found: {
            type: 'string',
          },
          reason: {
            type: 'string',
            description: 'The reason code a failure produced.',
          },
          material: {
            type: 'object',
            required: ['role', 'format', 'source', 'index', 'path'],
            properties: {
              role: {
                type: 'string',
                enum: ['signature', 'attestation'],
              },
              format: {
                type: 'string',
                enum: ['simplesigning', 'dsse', 'sigstore-bundle'],
              },
              source: {
                type: 'string',
                enum: ['cosign-tag', 'referrers', 'layout'],
              },
              index: {
                type: 'integer',
                minimum: 0,
              },
              path: {
                type: 'string',
              },
            },
          },
          trustAnchor: {
            type: 'object',
            properties: {
              key: {
                $ref: '#/components/schemas/VerifiedKey',
              },
              trustedRoot: {
                type: 'string',
              },
              identity: {
                type: 'object',
                properties: {
                  subject: {
                    type: 'string',
                  },
                  issuer: {
                    type: 'string',
                  },
                  region: {
                    type: 'string',
                  },
                },
              },
              logId: {
                type: 'string',
              },
              tsa: {
                type: 'boolean',
              },
            },
          },
          time: {
            type: 'object',
            required: ['source', 'at'],
            properties: {
              source: {
                type: 'string',
                enum: ['tlog', 'rfc3161', 'verification_time'],
              },
              at: {
                type: 'string',
                format: 'date-time',
              },
            },
          },
          durationMs: {
            type: 'number',
            minimum: 0,
          },
        },
      },
      VerificationReport: {
        type: 'object',
        required: ['schema', 'checks'],
        properties: {
          schema: {
            type: 'string',
            enum: ['https://residency.dev/verification-report/v1'],
          },
          checks: {
            type: 'array',
            items: {
              $ref: '#/components/schemas/VerificationCheck',
            },
          },
        },
      },
      ImageResult: {
        type: 'object',
        required: [
          'reference',
          'decision',
          'reasons',
          'signatures',
          'attestations',
        ],
        properties: {
          reference: {
            type: 'string',
          },
          registry: {
            type: 'string',
          },
          repository: {
            type: 'string',
          },
          tag: {
            type: 'string',
          },
          digest: {
            type: 'string',
          },
          registryRegion: {
            type: 'string',
          },
          decision: {
            $ref: '#/components/schemas/Decision',
          },
          reasons: {
            type: 'array',
            items: {
              $ref: '#/components/schemas/Reason',
            },
          },
          signatures: {
            type: 'array',
            items: {
              $ref: '#/components/schemas/SignatureResult',
            },
          },
          attestations: {
            type: 'array',
            items: {
              $ref: '#/components/schemas/AttestationResult',
            },
          },
          claims: {
            type: 'object',
            additionalProperties: {
              type: 'string',
            },
          },
          verifiedAt: {
            type: 'string',
            format: 'date-time',
          },
          report: {
            $ref: '#/components/schemas/VerificationReport',
            description:
              'Every check performed for this image, in order (absent in records older than the report).',
          },
        },
      },
      EntityStatus: {
        type: 'object',
        required: [
          'entityRef',
          'decision',
          'reasons',
          'images',
          'policyHash',
          'trustHash',
          'engineVersion',
          'checkedAt',
          'stale',
        ],
        properties: {
          entityRef: {
            type: 'string',
          },
          title: {
            type: 'string',
          },
          tenant: {
            type: 'string',
          },
          boundary: {
            $ref: '#/components/schemas/Boundary',
          },
          declaredRegion: {
            type: 'string',
          },
          decision: {
            $ref: '#/components/schemas/Decision',
          },
          reasons: {
            type: 'array',
            items: {
              $ref: '#/components/schemas/Reason',
            },
          },
          images: {
            type: 'array',
            items: {
              $ref: '#/components/schemas/ImageResult',
            },
          },
          policyHash: {
            type: 'string',
          },
          trustHash: {
            type: 'string',
          },
          engineVersion: {
            type: 'string',
          },
          checkedAt: {
            type: 'string',
            format: 'date-time',
            description:
              'When the entity was last checked (decided, or confirmed with the same decision and material).',
          },
          stale: {
            type: 'boolean',
            description:
              'True when the latest check could not decide and the last good evidence is shown.',
          },
          lastVerifiedAt: {
            type: 'string',
            format: 'date-time',
            description:
              'When a check last confirmed the evidence behind this status (database time).',
          },
          evidenceId: {
            type: 'string',
          },
          report: {
            $ref: '#/components/schemas/VerificationReport',
            description:
              "Entity checks (tenant, images, declared region, tenant rules), in order. The reports (this one and each image's) are those of the check that last wrote the result; a later check that confirmed the same decision over the same material moves checkedAt and lastVerifiedAt but keeps them, with their timings.",
          },
          lastAttempt: {
            type: 'object',
            description:
              'The latest undecided check (present when stale). Its reasons say why (registry_unreachable, rate_limited, digest_mismatch, too_large, ...); a reason of one image names it in details.image.',
            required: ['decision', 'reasons', 'checkedAt'],
            properties: {
              decision: {
                $ref: '#/components/schemas/Decision',
              },
              reasons: {
                type: 'array',
                items: {
                  $ref: '#/components/schemas/Reason',
                },
              },
              checkedAt: {
                type: 'string',
                format: 'date-time',
              },
            },
          },
        },
      },
      EntityStatusSummary: {
        type: 'object',
        required: [
          'entityRef',
          'decision',
          'stale',
          'reasonCodes',
          'images',
          'checkedAt',
        ],
        properties: {
          entityRef: {
            type: 'string',
          },
          title: {
            type: 'string',
          },
          tenant: {
            type: 'string',
          },
          declaredRegion: {
            type: 'string',
          },
          decision: {
            $ref: '#/components/schemas/Decision',
          },
          stale: {
            type: 'boolean',
          },
          reasonCodes: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
          images: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
          checkedAt: {
            type: 'string',
            format: 'date-time',
          },
          lastVerifiedAt: {
            type: 'string',
            format: 'date-time',
          },
          state: {
            type: 'string',
            enum: [
              'resident',
              'resident_by_exception',
              'not_resident',
              'unknown',
            ],
            description:
              "The state shown to people: resident_by_exception when approved exceptions in force waive every failure of this current non_compliant decision; otherwise the decision's own state (invalid reads not_resident).",
          },
        },
      },
      EntityStatusSummaryPage: {
        type: 'object',
        required: ['items'],
        properties: {
          items: {
            type: 'array',
            items: {
              $ref: '#/components/schemas/EntityStatusSummary',
            },
          },
          nextCursor: {
            type: 'string',
          },
          totalCount: {
            type: 'number',
            description:
              "Rows matching the filters, counted on the first page (cached per filter for up to 10 s per replica) and carried in the cursor (later pages repeat the first page's count, no recount). Omitted when rows the caller cannot see were dropped from the page.",
          },
        },
      },
      EvidenceSummary: {
        type: 'object',
        required: [
          'id',
          'entityRef',
          'sequence',
          'decision',
          'reasonCodes',
          'recordHash',
          'previousHash',
          'createdAt',
        ],
        properties: {
          id: {
            type: 'string',
          },
          entityRef: {
            type: 'string',
          },
          sequence: {
            type: 'integer',
          },
          decision: {
            $ref: '#/components/schemas/Decision',
          },
          reasonCodes: {
            type: 'array',
            items: {
              type: 'string',
            },
          },
          recordHash: {
            type: 'string',
          },
          previousHash: {
            type: 'string',
            nullable: true,
          },
          createdAt: {
            type: 'string',
            format: 'date-time',
          },
          checkpoint: {
            type: 'boolean',
          },
          kind: {
            type: 'string',
            enum: [
              'exception.requested',
              'exception.approved',
              'exception.rejected',
              'exception.revoked',
              'exception.expired',
              'exception.applied',
            ],
            description:
              "Set on exception event records (absent on decision records). On an event, decision is the decision in force when it was recorded and reasonCodes are the exception's codes.",
          },
          actor: {
            type: 'string',
            description:
              "On exception event records: who acted (the requester, approver or revoker; the expiry pass's actor for an expiry).",
          },
        },
      },
      EvidenceSummaryPage: {
        type: 'object',
        required: ['items'],
        properties: {
          items: {
            type: 'array',
            items: {
              $ref: '#/components/schemas/EvidenceSummary',
            },
          },
          nextCursor: {
            type: 'string',
          },
          totalCount: {
            type: 'number',
          },
        },
      },
      ChainedEvidence: {
        type: 'object',
        required: ['id', 'sequence', 'previousHash', 'recordHash', 'record'],
        properties: {
          id: {
            type: 'string',
          },
          sequence: {
            type: 'integer',
          },
          previousHash: {
            type: 'string',
            nullable: true,
          },
          recordHash: {
            type: 'string',
            description:
              'SHA-256 hex of RFC 8785 canonical JSON of {sequence, previousHash, record}.',
          },
          record: {
            type: 'object',
            description:
              'The EvidenceRecord (schema https://residency.dev/evidence/v1), or an exception event record (schema https://residency.dev/exception-event/v1, with the signed exception statement on exception.approved and exception.applied).',
            additionalProperties: {},
          },
        },
      },
      EvidenceBundle: {
        type: 'object',
        required: ['schema', 'evidence', 'exportedAt'],
        properties: {
          schema: {
            type: 'string',
            enum: ['https://residency.dev/evidence-bundle/v1'],
          },
          evidence: {
            $ref: '#/components/schemas/ChainedEvidence',
          },
          previous: {
            type: 'object',
            required: ['id', 'sequence', 'recordHash'],
            properties: {
              id: {
                type: 'string',
              },
              sequence: {
                type: 'integer',
              },
              recordHash: {
                type: 'string',
              },
            },
          },
          exportedAt: {
            type: 'string',
            format: 'date-time',
          },
          exportedBy: {
            type: 'string',
          },
        },
      },
      ChainVerification: {
        type: 'object',
        required: ['entityRef', 'ok', 'length'],
        properties: {
          entityRef: {
            type: 'string',
          },
          ok: {
            type: 'boolean',
          },
          length: {
            type: 'integer',
          },
          brokenAt: {
            type: 'object',
            required: ['sequence', 'problem'],
            properties: {
              sequence: {
                type: 'integer',
              },
              id: {
                type: 'string',
              },
              problem: {
                type: 'string',
              },
            },
          },
        },
      },
      KeyInfo: {
        type: 'object',
        required: [
          'id',
          'fingerprint',
          'region',
          'regionSource',
          'algorithm',
          'revoked',
          'insideBoundary',
        ],
        properties: {
          id: {
            type: 'string',
          },
          fingerprint: {
            type: 'string',
          },
          region: {
            type: 'string',
          },
          regionSource: {
            type: 'string',
            enum: ['id', 'explicit'],
          },
          algorithm: {
            type: 'string',
          },
          validFrom: {
            type: 'string',
          },
          validUntil: {
            type: 'string',
          },
          revoked: {
            type: 'boolean',
          },
          insideBoundary: {
            type: 'boolean',
          },
        },
      },
      TenantSummary: {
        type: 'object',
        required: [
          'id',
          'boundary',
          'require',
          'registries',
          'layouts',
          'keys',
          'counts',
        ],
        properties: {
          id: {
            type: 'string',
          },
          boundary: {
            $ref: '#/components/schemas/Boundary',
          },
          require: {
            type: 'array',
            items: {
              type: 'string',
              enum: ['signature', 'provenance', 'sbom', 'residency'],
            },
          },
          registries: {
            type: 'array',
            items: {
              type: 'object',
              required: ['host', 'region', 'insideBoundary'],
              properties: {
                host: {
                  type: 'string',
                },
                region: {
                  type: 'string',
                },
                insideBoundary: {
                  type: 'boolean',
                },
              },
            },
          },
          layouts: {
            description:
              'Configured on-disk image stores (residency.layouts: OCI image layout directories, referenced as oci:<path>), each with its region.',
            type: 'array',
            items: {
              type: 'object',
              required: ['path', 'region', 'insideBoundary'],
              properties: {
                path: {
                  type: 'string',
                },
                region: {
                  type: 'string',
                },
                insideBoundary: {
                  type: 'boolean',
                },
              },
            },
          },
          keys: {
            type: 'array',
            items: {
              $ref: '#/components/schemas/KeyInfo',
            },
          },
          counts: {
            type: 'object',
            required: ['compliant', 'non_compliant', 'unknown', 'invalid'],
            properties: {
              compliant: {
                type: 'integer',
              },
              non_compliant: {
                type: 'integer',
              },
              unknown: {
                type: 'integer',
              },
              invalid: {
                type: 'integer',
              },
            },
          },
          residentByException: {
            type: 'integer',
            description:
              "Of counts.non_compliant, how many are resident by exception (exceptions in force waive every failure), as the entity list's state filter counts them.",
          },
        },
      },
      Mismatch: {
        type: 'object',
        required: ['entityRef', 'kind', 'value'],
        properties: {
          entityRef: {
            type: 'string',
          },
          tenant: {
            type: 'string',
          },
          kind: {
            type: 'string',
            enum: [
              'tenant_unknown',
              'declared_region',
              'registry_region',
              'key_region',
              'build_region',
            ],
          },
          value: {
            type: 'string',
          },
          where: {
            type: 'string',
          },
          boundary: {
            $ref: '#/components/schemas/Boundary',
          },
        },
      },
    },
  },
} as const;
