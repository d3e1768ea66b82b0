import { useEffect, useState } from 'react';
import { useSignal } from '@backstage/plugin-signals-react';
import {
  residencySignalChannel,
  type ResidencyEntitySignal,
} from '@residency-dev/plugin-residency-common';

/**
 * How many times the backend has announced, on the entity's signal channel,
 * that the entity was checked or its exceptions changed, since this entity was
 * shown (0 at first, and again when the entity changes). Put it in the
 * dependencies of a load to reload on each announcement. Without the signals
 * plugin in the app it stays 0 and nothing reloads by itself.
 */
export function useResidencySignal(entityRef: string): number {
  const channel = residencySignalChannel(entityRef);
  const { lastSignal } = useSignal<ResidencyEntitySignal>(channel);
  const [seen, setSeen] = useState({ channel, count: 0 });
  useEffect(() => {
    // useSignal keeps the last message of the previous channel: count only
    // messages about this entity.
    if (
      !lastSignal ||
      typeof lastSignal.entityRef !== 'string' ||
      residencySignalChannel(lastSignal.entityRef) !== channel
    ) {
      return;
    }
    setSeen(s => ({
      channel,
      count: s.channel === channel ? s.count + 1 : 1,
    }));
  }, [lastSignal, channel]);
  return seen.channel === channel ? seen.count : 0;
}
