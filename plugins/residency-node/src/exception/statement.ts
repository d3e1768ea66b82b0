/*
 * The signed form of an approved exception: an in-toto Statement v1 whose subjects
 * are the covered image digests and whose predicate
 * (`https://residency.dev/exception/v1`) says what is waived, by whom, until when.
 */
import {
  EXCEPTION_PREDICATE_TYPE,
  type ResidencyException,
} from '@residency-dev/plugin-residency-common';

/** The predicate of an exception statement. @public */
export interface ExceptionPredicate {
  exceptionId: string;
  entity: string;
  digests: string[];
  waivedReasonCodes: string[];
  justification: string;
  reference: string;
  requester: string;
  approver: string;
  approvedAt: string;
  expiresAt: string;
}

/** An exception statement. @public */
export interface ExceptionStatement {
  _type: 'https://in-toto.io/Statement/v1';
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: typeof EXCEPTION_PREDICATE_TYPE;
  predicate: ExceptionPredicate;
}

/**
 * Builds the statement of an approved exception (`decidedBy`/`decidedAt` are the
 * approver and approval time).
 *
 * @public
 */
export function buildExceptionStatement(
  e: ResidencyException & { decidedBy: string; decidedAt: string },
): ExceptionStatement {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    // One subject per covered image digest, matched by digest; the name (unique
    // within the subject list, as Statement v1 asks) is the digest itself.
    subject: e.digests.map(d => {
      const [alg, hex] = d.split(':');
      return { name: d, digest: { [alg]: hex } };
    }),
    predicateType: EXCEPTION_PREDICATE_TYPE,
    predicate: {
      exceptionId: e.id,
      entity: e.entityRef,
      digests: [...e.digests],
      waivedReasonCodes: [...e.reasonCodes],
      justification: e.justification,
      reference: e.reference,
      requester: e.requestedBy,
      approver: e.decidedBy,
      approvedAt: e.decidedAt,
      expiresAt: e.expiresAt,
    },
  };
}
