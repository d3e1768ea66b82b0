/*
 * One image, one deadline: resolving an image and discovering what is attached to it
 * share one overall deadline, however many requests that takes. The per-request
 * deadline alone does not bound the sum (a registry dripping each of 64 `.sig` layers
 * just under it would hold one image for an hour).
 */
import { SourceError } from './types';

/** A running per-image deadline: its signal aborts with a typed `SourceError`. */
export interface ImageDeadline {
  signal: AbortSignal;
  /** Stops the timer once the image is done. */
  clear(): void;
}

/** Starts the deadline of one image; `what` names it in the error. */
export function startImageDeadline(ms: number, what: string): ImageDeadline {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(
      new SourceError(
        'registry_unreachable',
        `${what}: the per-image deadline of ${Math.round(
          ms / 1000,
        )} s passed before the registry delivered everything`,
        { problem: 'image_deadline', deadlineMs: ms },
      ),
    );
  }, ms);
  timer.unref?.();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/** The caller's signal and the image deadline together. */
export function withDeadline(
  deadline: ImageDeadline,
  signal?: AbortSignal,
): AbortSignal {
  return signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
}
